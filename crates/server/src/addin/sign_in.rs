//! What the task pane needs for "Sign in with Microsoft 365": the Entra app registration of
//! this deployment (`[outlook]` in the configuration), served as `config.json` next to the
//! task pane. The task pane shows the button only when this names an app and the host
//! supports nested app authentication; the same sign-in then asks Microsoft Graph for
//! `Mail.ReadBasic` to build the contact history from Sent Items (ADR 0008).

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::kit::config::OutlookConfig;

/// The delegated Graph permission the task pane asks for to read Sent Items: recipients and
/// dates of the user's own mail, never bodies or attachments.
pub const SENT_ITEMS_SCOPE: &str = "Mail.ReadBasic";
/// Entra's multi-tenant authority: each customer signs in at their own directory.
pub const AUTHORITY: &str = "https://login.microsoftonline.com/common";

/// The registration, checked at start-up; `None` inside when none is configured.
#[derive(Debug, Clone, Default)]
pub struct MicrosoftSignIn(Option<Arc<EntraApp>>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntraApp {
    /// The Application (client) id.
    pub client_id: String,
    /// The scope of leakwatch's API (the token the server accepts as a bearer token).
    pub scope: String,
    pub authority: String,
    /// Microsoft Graph scopes for the first build of the contact history.
    pub graph_scopes: Vec<String>,
}

/// `GET /addin/outlook/config.json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientConfig {
    /// The Entra app for nested app authentication; null: password sign-in only.
    pub entra: Option<EntraApp>,
}

impl MicrosoftSignIn {
    /// From the operator's settings and this server's public URL (its host is part of the
    /// default scope, `api://{host}/{client id}/access_as_user`).
    pub fn from_config(config: &OutlookConfig, public_url: &str) -> anyhow::Result<Self> {
        let client_id = config.entra_client_id.trim();
        if client_id.is_empty() {
            if !config.entra_scope.trim().is_empty() {
                anyhow::bail!("outlook.entra_scope is set but outlook.entra_client_id is empty");
            }
            return Ok(MicrosoftSignIn(None));
        }
        let client_id = uuid::Uuid::parse_str(client_id)
            .map_err(|_| {
                anyhow::anyhow!(
                    "outlook.entra_client_id must be the app registration's Application (client) ID, a GUID such as 3f2b1c9e-...; got {client_id:?}"
                )
            })?
            .to_string();
        let scope = match config.entra_scope.trim() {
            "" => {
                let url = url::Url::parse(public_url)
                    .map_err(|e| anyhow::anyhow!("public_url {public_url:?}: {e}"))?;
                let host = url
                    .host_str()
                    .ok_or_else(|| anyhow::anyhow!("public_url {public_url:?} has no host"))?;
                let host = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                };
                format!("api://{host}/{client_id}/access_as_user")
            }
            scope if scope.chars().any(char::is_whitespace) => {
                anyhow::bail!("outlook.entra_scope must be one scope without spaces; got {scope:?}")
            }
            scope => scope.to_string(),
        };
        Ok(MicrosoftSignIn(Some(Arc::new(EntraApp {
            client_id,
            scope,
            authority: AUTHORITY.to_string(),
            graph_scopes: vec![SENT_ITEMS_SCOPE.to_string()],
        }))))
    }

    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            entra: self.0.as_deref().cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(client_id: &str, scope: &str) -> OutlookConfig {
        OutlookConfig {
            entra_client_id: client_id.into(),
            entra_scope: scope.into(),
        }
    }

    #[test]
    fn without_a_registration_there_is_no_microsoft_sign_in() {
        let sign_in =
            MicrosoftSignIn::from_config(&config("", ""), "https://lw.example.nl").unwrap();
        assert_eq!(sign_in.client_config().entra, None);
        assert!(
            MicrosoftSignIn::from_config(&config("", "api://x/y"), "https://lw.example.nl")
                .is_err()
        );
    }

    #[test]
    fn the_default_scope_is_the_office_sso_form_on_the_public_host() {
        let id = "3F2B1C9E-0000-4000-8000-00000000ABCD";
        let sign_in =
            MicrosoftSignIn::from_config(&config(id, ""), "https://lw.example.nl:8443/").unwrap();
        let app = sign_in.client_config().entra.unwrap();
        assert_eq!(app.client_id, "3f2b1c9e-0000-4000-8000-00000000abcd");
        assert_eq!(
            app.scope,
            "api://lw.example.nl:8443/3f2b1c9e-0000-4000-8000-00000000abcd/access_as_user"
        );
        assert_eq!(app.graph_scopes, ["Mail.ReadBasic"]);
        let own = MicrosoftSignIn::from_config(
            &config(id, "api://other/x/access_as_user"),
            "https://lw.example.nl",
        )
        .unwrap();
        assert_eq!(
            own.client_config().entra.unwrap().scope,
            "api://other/x/access_as_user"
        );
    }

    #[test]
    fn a_client_id_that_is_no_guid_or_a_scope_list_is_refused_with_the_setting_named() {
        let err = MicrosoftSignIn::from_config(&config("leakwatch", ""), "https://lw.example.nl")
            .unwrap_err();
        assert!(err.to_string().contains("outlook.entra_client_id"), "{err}");
        let id = "3f2b1c9e-0000-4000-8000-00000000abcd";
        let err =
            MicrosoftSignIn::from_config(&config(id, "a b"), "https://lw.example.nl").unwrap_err();
        assert!(err.to_string().contains("outlook.entra_scope"), "{err}");
    }
}
