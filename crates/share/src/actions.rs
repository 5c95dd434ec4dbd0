//! Staff actions on an existing share: resend (same link, same contacts,
//! lifetime renewed) and revoke.

use studylink_model::{AccountId, Share, ShareId, ShareState};
use studylink_store::StoreError;

use crate::{DAY_MS, Requester, ShareError, ShareService, audit};

impl ShareService {
    pub(crate) async fn resend_share(
        &self,
        account: AccountId,
        id: ShareId,
        by: &Requester,
    ) -> Result<Share, ShareError> {
        let store = &*self.store;
        let share = store
            .share(account, id)
            .await?
            .ok_or(ShareError::NotFound)?;
        if share.state == ShareState::Preparing {
            return Err(ShareError::NotReady);
        }
        let now = self.clock.now();
        // An expired link is never brought back: a new share is a new decision.
        if !share.is_active(now) {
            return Err(ShareError::Expired);
        }
        let settings = store.account_settings(account).await?;
        let expires_at = now + settings.link_lifetime_days * DAY_MS;
        let msgs = self.build_messages(&share, &settings, expires_at);
        store
            .resend_share(account, id, expires_at, &by.label, &msgs, now)
            .await
            .map_err(|e| match e {
                // Expired, revoked or failed between our read and the write.
                StoreError::Conflict(_) => ShareError::Expired,
                StoreError::NotFound(_) => ShareError::NotFound,
                e => ShareError::Store(e),
            })?;
        if !msgs.is_empty() {
            self.wake_outbox();
        }
        tracing::info!(share = %id, messages = msgs.len(), "share resent");
        audit::share_event(
            store,
            account,
            by.actor.clone(),
            "share.resent",
            id,
            serde_json::json!({
                "channels": audit::channels(share.email.is_some(), share.phone.is_some()),
                "messages": msgs.len(),
                "lifetime_days": settings.link_lifetime_days,
            }),
        )
        .await;
        store.share(account, id).await?.ok_or(ShareError::NotFound)
    }

    /// Revoking twice is not an error: the share is returned as it stands,
    /// and only the first revocation is audited.
    pub(crate) async fn revoke_share(
        &self,
        account: AccountId,
        id: ShareId,
        by: &Requester,
    ) -> Result<Share, ShareError> {
        let store = &*self.store;
        store
            .share(account, id)
            .await?
            .ok_or(ShareError::NotFound)?;
        if store.revoke_share(account, id, self.clock.now()).await? {
            tracing::info!(share = %id, "share revoked");
            audit::share_event(
                store,
                account,
                by.actor.clone(),
                "share.revoked",
                id,
                serde_json::json!({}),
            )
            .await;
        }
        store.share(account, id).await?.ok_or(ShareError::NotFound)
    }
}
