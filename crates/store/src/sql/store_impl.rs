//! The one implementation of [`Store`](crate::Store), expanded for each backend.
//!
//! sqlx's runtime API is generic over the database, but naming the bounds that
//! make a generic `impl<DB> Store` compile is far noisier than the bodies
//! themselves. A macro stamps out the identical text for each pool type instead;
//! the backend differences live in the two structs' inherent methods
//! (`begin_write`) and in the migrations. `insert_instance` is in `ingest.rs`.
//!
//! Each store has a `read` and a `write` pool (the same pool for PostgreSQL).

macro_rules! impl_store {
    ($store:ty, $backend:literal, $migrator:path) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            fn blocking_index(&self) -> Option<Arc<dyn crate::BlockingIndex>> {
                self.blocking.clone()
            }

            async fn migrate(&self) -> StoreResult<()> {
                $migrator.run(&self.write).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.read).await?;
                Ok(())
            }

            // --- accounts ---------------------------------------------------

            async fn default_account(&self) -> StoreResult<Account> {
                let found = sqlx::query_as::<_, AccountDb>(q::DEFAULT_ACCOUNT)
                    .fetch_optional(&self.read)
                    .await?;
                if let Some(a) = found {
                    return Ok(a.into());
                }
                sqlx::query(q::INSERT_DEFAULT_ACCOUNT)
                    .bind(DEFAULT_ACCOUNT_NAME)
                    .bind(now_millis())
                    .execute(&self.write)
                    .await?;
                let a = sqlx::query_as::<_, AccountDb>(q::DEFAULT_ACCOUNT)
                    .fetch_one(&self.write)
                    .await?;
                Ok(a.into())
            }

            async fn create_account(&self, name: &str) -> StoreResult<Account> {
                let a = sqlx::query_as::<_, AccountDb>(q::INSERT_ACCOUNT)
                    .bind(name)
                    .bind(now_millis())
                    .fetch_one(&self.write)
                    .await?;
                Ok(a.into())
            }

            async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
                let a = sqlx::query_as::<_, AccountDb>(q::ACCOUNT_BY_ID)
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?;
                Ok(a.map(Into::into))
            }

            // --- users ------------------------------------------------------

            async fn count_users(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<_, i64>(q::COUNT_USERS)
                    .fetch_one(&self.read)
                    .await?)
            }

            async fn create_user(&self, user: &NewUser) -> StoreResult<User> {
                sqlx::query_as::<_, UserDb>(q::INSERT_USER)
                    .bind(user.account_id.0)
                    .bind(&user.email)
                    .bind(&user.password_hash)
                    .bind(user.role.as_str())
                    .bind(now_millis())
                    .fetch_one(&self.write)
                    .await
                    .map_err(|e| conflict(e, "a user with this email"))?
                    .try_into()
            }

            async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
                sqlx::query_as::<_, UserDb>(q::USER_BY_EMAIL)
                    .bind(email)
                    .fetch_optional(&self.read)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
                sqlx::query_as::<_, UserDb>(q::USER_BY_ID)
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn list_users(&self, account: AccountId) -> StoreResult<Vec<User>> {
                sqlx::query_as::<_, UserDb>(q::LIST_USERS)
                    .bind(account.0)
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn set_user_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
                let done = sqlx::query(q::SET_PASSWORD)
                    .bind(id.0)
                    .bind(password_hash)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("user {id}")));
                }
                Ok(())
            }

            // --- setup tokens -----------------------------------------------

            async fn put_setup_token(
                &self,
                token_hash: &str,
                expires_at: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(q::DELETE_SETUP_TOKENS)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(q::INSERT_SETUP_TOKEN)
                    .bind(token_hash)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_setup_token(&self, token_hash: &str, now: Millis) -> StoreResult<bool> {
                let done = sqlx::query(q::TAKE_SETUP_TOKEN)
                    .bind(token_hash)
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            // --- sessions ---------------------------------------------------

            async fn create_session(&self, s: &Session) -> StoreResult<()> {
                sqlx::query(q::INSERT_SESSION)
                    .bind(&s.token_hash)
                    .bind(s.user_id.0)
                    .bind(&s.csrf_token)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .execute(&self.write)
                    .await
                    .map_err(|e| conflict(e, "session"))?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
                now: Millis,
            ) -> StoreResult<Option<(Session, User)>> {
                sqlx::query_as::<_, SessionUserDb>(q::SESSION)
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.read)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query(q::DELETE_SESSION)
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn delete_expired_sessions(&self, now: Millis) -> StoreResult<u64> {
                let done = sqlx::query(q::DELETE_EXPIRED_SESSIONS)
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected())
            }

            // --- login failures ---------------------------------------------

            async fn record_login_failure(&self, key: &str, at: Millis) -> StoreResult<()> {
                sqlx::query(q::INSERT_LOGIN_FAILURE)
                    .bind(key)
                    .bind(at)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn count_login_failures(&self, key: &str, since: Millis) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<_, i64>(q::COUNT_LOGIN_FAILURES)
                    .bind(key)
                    .bind(since)
                    .fetch_one(&self.read)
                    .await?)
            }

            async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
                sqlx::query(q::CLEAR_LOGIN_FAILURES)
                    .bind(key)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            // --- API keys ---------------------------------------------------

            async fn create_api_key(
                &self,
                account: AccountId,
                name: &str,
                prefix: &str,
                key_hash: &str,
            ) -> StoreResult<ApiKey> {
                let k = sqlx::query_as::<_, ApiKeyDb>(q::INSERT_API_KEY)
                    .bind(account.0)
                    .bind(name)
                    .bind(prefix)
                    .bind(key_hash)
                    .bind(now_millis())
                    .fetch_one(&self.write)
                    .await
                    .map_err(|e| conflict(e, "API key"))?;
                Ok(k.into())
            }

            async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
                let k = sqlx::query_as::<_, ApiKeyDb>(q::API_KEY_BY_HASH)
                    .bind(key_hash)
                    .fetch_optional(&self.read)
                    .await?;
                Ok(k.map(Into::into))
            }

            async fn list_api_keys(&self, account: AccountId) -> StoreResult<Vec<ApiKey>> {
                let ks = sqlx::query_as::<_, ApiKeyDb>(q::LIST_API_KEYS)
                    .bind(account.0)
                    .fetch_all(&self.read)
                    .await?;
                Ok(ks.into_iter().map(Into::into).collect())
            }

            async fn revoke_api_key(
                &self,
                account: AccountId,
                id: ApiKeyId,
                at: Millis,
            ) -> StoreResult<bool> {
                let done = sqlx::query(q::REVOKE_API_KEY)
                    .bind(account.0)
                    .bind(id.0)
                    .bind(at)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            // --- the DICOM index --------------------------------------------

            async fn insert_instance(&self, new: &NewInstance<'_>) -> StoreResult<InsertOutcome> {
                self.insert_instance_tx(new).await
            }

            async fn instance_by_sop(
                &self,
                account: AccountId,
                sop_uid: &str,
            ) -> StoreResult<Option<InstanceRow>> {
                let r = sqlx::query_as::<_, InstanceDb>(q::INSTANCE_BY_SOP)
                    .bind(account.0)
                    .bind(sop_uid)
                    .fetch_optional(&self.read)
                    .await?;
                Ok(r.map(Into::into))
            }

            async fn query_studies(
                &self,
                account: AccountId,
                q: &StudyQuery,
            ) -> StoreResult<Vec<StudyRow>> {
                let rows: Vec<StudyDb> = self.fetch_built(filter::studies(account, q)).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn query_series(
                &self,
                account: AccountId,
                q: &SeriesQuery,
            ) -> StoreResult<Vec<SeriesRow>> {
                let rows: Vec<SeriesDb> = self.fetch_built(filter::series(account, q)).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn query_instances(
                &self,
                account: AccountId,
                q: &InstanceQuery,
            ) -> StoreResult<Vec<InstanceRow>> {
                let rows: Vec<InstanceDb> = self.fetch_built(filter::instances(account, q)).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn study_contacts(
                &self,
                account: AccountId,
                study_uid: &str,
            ) -> StoreResult<Vec<Contact>> {
                sqlx::query_as::<_, ContactDb>(q::STUDY_CONTACTS)
                    .bind(account.0)
                    .bind(study_uid)
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn count_instances(&self, account: AccountId) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<_, i64>(q::COUNT_INSTANCES)
                    .bind(account.0)
                    .fetch_one(&self.read)
                    .await?)
            }

            async fn search_studies(
                &self,
                account: AccountId,
                q: &StudySearch,
            ) -> StoreResult<StudySearchPage> {
                // Two connections: the count costs as much as the page.
                let (rows, total) = tokio::try_join!(
                    self.fetch_built::<StudyDb>(search::page(account, q)),
                    self.fetch_built::<(i64,)>(search::count(account, q)),
                )?;
                Ok(StudySearchPage {
                    rows: rows.into_iter().map(Into::into).collect(),
                    total: total.first().map_or(0, |t| t.0),
                })
            }

            async fn study_previews(
                &self,
                account: AccountId,
                study_uids: &[String],
                per_study: i64,
            ) -> StoreResult<Vec<InstanceRow>> {
                if study_uids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = search::previews(account, study_uids, per_study);
                let rows: Vec<InstanceDb> = self.fetch_built(sql).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn all_blob_keys(&self) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar::<_, String>(q::ALL_BLOB_KEYS)
                    .fetch_all(&self.read)
                    .await?)
            }

            // --- clinic settings --------------------------------------------

            async fn account_settings(&self, account: AccountId) -> StoreResult<AccountSettings> {
                Self::read_settings(&self.read, account).await
            }

            async fn update_account_settings(
                &self,
                account: AccountId,
                settings: &AccountSettings,
                actor: &Actor,
            ) -> StoreResult<Vec<&'static str>> {
                self.update_settings_tx(account, settings, actor).await
            }

            async fn set_link_code(
                &self,
                account: AccountId,
                code_hash: Option<&str>,
                actor: &Actor,
            ) -> StoreResult<i64> {
                self.set_link_code_tx(account, code_hash, actor).await
            }

            async fn link_code_hash(&self, account: AccountId, version: i64) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar::<_, String>(settings::LINK_CODE_HASH)
                    .bind(account.0)
                    .bind(version)
                    .fetch_optional(&self.read)
                    .await?)
            }

            async fn current_link_code_version(&self, account: AccountId) -> StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar::<_, i64>(settings::CURRENT_LINK_CODE_VERSION)
                    .bind(account.0)
                    .fetch_optional(&self.read)
                    .await?)
            }

            // --- audit log --------------------------------------------------

            async fn audit(&self, e: &AuditEvent) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<_, i64>(q::INSERT_AUDIT)
                    .bind(now_millis())
                    .bind(e.account_id.map(|a| a.0))
                    .bind(e.actor.kind())
                    .bind(e.actor.id_text())
                    .bind(&e.action)
                    .bind(&e.target_kind)
                    .bind(&e.target_id)
                    .bind(&e.detail)
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn audit_events(
                &self,
                account: Option<AccountId>,
                limit: i64,
            ) -> StoreResult<Vec<AuditRecord>> {
                let limit = limit.clamp(1, 10_000);
                let rows = match account {
                    Some(a) => {
                        sqlx::query_as::<_, AuditDb>(q::AUDIT_FOR_ACCOUNT)
                            .bind(a.0)
                            .bind(limit)
                            .fetch_all(&self.read)
                            .await?
                    }
                    None => {
                        sqlx::query_as::<_, AuditDb>(q::AUDIT_ALL)
                            .bind(limit)
                            .fetch_all(&self.read)
                            .await?
                    }
                };
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}
