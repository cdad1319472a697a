// Sign-in with Microsoft 365 through nested app authentication (MSAL), loaded only where
// the host supports it (NestedAppAuth 1.1) and the server names an Entra app. The access
// token is for leakwatch's API and the server accepts it as the bearer token
// (docs/authentication.md, "Microsoft Entra ID for a tenant").

import { createNestablePublicClientApplication } from "@azure/msal-browser";

/** → `{token, expires_at (Unix ms), email}`; silent first, a popup when consent is needed. */
export async function signInWithMicrosoft({ clientId, scope }) {
  const pca = await createNestablePublicClientApplication({
    auth: { clientId, authority: "https://login.microsoftonline.com/common" },
  });
  const request = { scopes: [scope] };
  let result;
  try {
    result = await pca.acquireTokenSilent(request);
  } catch (_) {
    result = await pca.acquireTokenPopup(request);
  }
  return {
    token: result.accessToken,
    expires_at: result.expiresOn ? result.expiresOn.getTime() : null,
    email: result.account ? result.account.username : "",
  };
}
