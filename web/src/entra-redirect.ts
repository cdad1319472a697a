// The page Entra ID's sign-in window returns to: it hands the answer to the dashboard that
// opened the window (MSAL's redirect bridge), which then closes it.

import { broadcastResponseToMainFrame } from "@azure/msal-browser/redirect-bridge";

void broadcastResponseToMainFrame();
