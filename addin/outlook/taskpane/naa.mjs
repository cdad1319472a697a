// Sign-in with Microsoft 365 through nested app authentication (MSAL), loaded only where
// the host supports it (NestedAppAuth 1.1) and the server names an Entra app. The access
// token is for leakwatch's API and the server accepts it as the bearer token
// (docs/authentication.md, "Microsoft Entra ID for a tenant"); a second token, for
// Microsoft Graph's Mail.ReadBasic, reads Sent Items for the first contact history.

import { createNestablePublicClientApplication } from "@azure/msal-browser";

const COMMON = "https://login.microsoftonline.com/common";
let application = null;

function app({ clientId, authority }) {
  if (!application) application = createNestablePublicClientApplication({ auth: { clientId, authority: authority || COMMON } });
  return application;
}

/** Silent first; a popup (the host's consent dialog) only when `interactive`. */
async function acquire(entra, scopes, { interactive }) {
  const pca = await app(entra);
  try {
    return await pca.acquireTokenSilent({ scopes });
  } catch (err) {
    if (!interactive) throw err;
    return pca.acquireTokenPopup({ scopes });
  }
}

/** → `{token, expires_at (Unix ms), email}` for leakwatch's API. */
export async function signInWithMicrosoft(entra) {
  const result = await acquire(entra, [entra.scope], { interactive: true });
  return {
    token: result.accessToken,
    expires_at: result.expiresOn ? result.expiresOn.getTime() : null,
    email: result.account ? result.account.username : "",
  };
}

/** A Microsoft Graph token for `entra.graphScopes` (Mail.ReadBasic). */
export async function graphToken(entra, { interactive = false } = {}) {
  return (await acquire(entra, entra.graphScopes, { interactive })).accessToken;
}
