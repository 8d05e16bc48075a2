//! What each registry (a docker-v2 client) was last given: the key ids of the trust chain in
//! its last download, so the Keys page can tell which registries must reload before a switch.

use super::{sql, Exec};

use super::StoreError;
use crate::domain::{ClientUuid, RealmId};

/// A client's last download.
#[derive(Debug, Clone)]
pub struct RegistryDownload {
    pub client_id: ClientUuid,
    /// The key ids the download's trust chain carried.
    pub kids: Vec<String>,
    pub downloaded_at: i64,
}

/// A stored row: the key ids space-separated.
struct Row {
    client_id: ClientUuid,
    kids: String,
    downloaded_at: i64,
}

/// Records that `client` was just given a trust chain of `kids`.
pub async fn record(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    client: &ClientUuid,
    kids: &[String],
    at: i64,
) -> Result<(), StoreError> {
    let kids = kids.join(" ");
    sql!(
        db,
        query!(
            "INSERT INTO registry_download (client_id, realm_id, kids, downloaded_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id) DO UPDATE SET kids = excluded.kids,
             downloaded_at = excluded.downloaded_at",
            client,
            realm,
            kids,
            at
        )
        .execute
    )?;
    Ok(())
}

/// The realm's recorded downloads, one per client.
pub async fn list(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<RegistryDownload>, StoreError> {
    let rows = sql!(
        db,
        query_as!(
            Row,
            r#"SELECT client_id AS "client_id: ClientUuid", kids, downloaded_at
         FROM registry_download WHERE realm_id = $1"#,
            realm
        )
        .fetch_all
    )?;
    Ok(rows
        .into_iter()
        .map(|row| RegistryDownload {
            client_id: row.client_id,
            kids: row.kids.split_whitespace().map(str::to_owned).collect(),
            downloaded_at: row.downloaded_at,
        })
        .collect())
}
