//! The page the disclosure links to (`info_url` = `{public_url}/i/{message_id}`): the
//! recipients' transparency page with the objection form, built in [`crate::privacy`].

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    crate::privacy::public_router()
}
