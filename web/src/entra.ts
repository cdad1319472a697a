// "Sign in with Microsoft": Microsoft's own library (MSAL) opens Entra ID's sign-in in a
// window and returns an access token for leakwatch's API, which the server exchanges for a
// session (POST /api/v1/auth/session/entra). Built as its own file, entra.js, loaded only
// when someone chooses it: MSAL is larger than the rest of the first page.

import { createStandardPublicClientApplication } from "@azure/msal-browser";

export interface EntraApp {
  client_id: string;
  scope: string;
  authority: string;
}

export async function signInWithMicrosoft(app: EntraApp): Promise<string> {
  const msal = await createStandardPublicClientApplication({
    auth: { clientId: app.client_id, authority: app.authority, redirectUri: new URL("entra-redirect.html", document.baseURI).href },
    // The session cookie is what signs in; MSAL's own cache ends with the tab.
    cache: { cacheLocation: "sessionStorage" },
  });
  const result = await msal.loginPopup({ scopes: [app.scope], prompt: "select_account" });
  return result.accessToken;
}
