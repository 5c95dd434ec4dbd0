//! `insert_instance` and the query helpers, expanded for each backend like
//! `store_impl.rs` (see there for why a macro).

macro_rules! impl_ingest {
    ($store:ty, $db:ty) => {
        impl $store {
            /// `Duplicate` if the SOP Instance UID is already stored.
            async fn duplicate(
                pool: &sqlx::Pool<$db>,
                account: i64,
                sop_uid: &str,
            ) -> StoreResult<Option<InsertOutcome>> {
                let found = sqlx::query_as::<_, (i64, String, i64)>(q::INSTANCE_KEY_BY_SOP)
                    .bind(account)
                    .bind(sop_uid)
                    .fetch_optional(pool)
                    .await?;
                Ok(found.map(|(id, blob_key, _)| InsertOutcome::Duplicate {
                    id: InstanceId(id),
                    blob_key,
                }))
            }

            /// Runs a query built by [`filter`] on the read pool.
            async fn fetch_built<R>(&self, sql: Sql) -> StoreResult<Vec<R>>
            where
                R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            {
                let mut query = sqlx::query_as::<$db, R>(sqlx::AssertSqlSafe(sql.text));
                for arg in sql.args {
                    query = match arg {
                        Arg::Text(s) => query.bind(s),
                        Arg::Int(i) => query.bind(i),
                    };
                }
                Ok(query.fetch_all(&self.read).await?)
            }

            /// See [`Store::insert_instance`](crate::Store::insert_instance).
            async fn insert_instance_tx(
                &self,
                new: &NewInstance<'_>,
            ) -> StoreResult<InsertOutcome> {
                let account = new.account_id.0;
                let sop_uid = new.meta.instance.sop_uid.as_str();
                // Resends are common; answer them without taking the write lock.
                if let Some(dup) = Self::duplicate(&self.read, account, sop_uid).await? {
                    return Ok(dup);
                }
                let (p, st, se, inst) = (
                    &new.meta.patient,
                    &new.meta.study,
                    &new.meta.series,
                    &new.meta.instance,
                );
                let now = now_millis();
                let mut tx = self.begin_write().await?;

                let existing = sqlx::query_as::<_, (i64, String)>(q::STUDY_PATIENT)
                    .bind(account)
                    .bind(&st.study_uid)
                    .fetch_optional(&mut *tx)
                    .await?;
                let patient_key = p.key();
                let patient_ref = match existing {
                    // The study keeps its first instance's patient; don't create
                    // an orphan patient row for a disagreeing later instance.
                    Some((patient_ref, key)) if key != patient_key => patient_ref,
                    _ => {
                        sqlx::query_scalar::<_, i64>(q::UPSERT_PATIENT)
                            .bind(account)
                            .bind(&patient_key)
                            .bind(text(&p.patient_id))
                            .bind(text(&p.issuer))
                            .bind(text(&p.name))
                            .bind(text(&p.name).map(fold_case))
                            .bind(text(&p.birth_date))
                            .bind(text(&p.sex))
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                let study_ref = sqlx::query_scalar::<_, i64>(q::UPSERT_STUDY)
                    .bind(account)
                    .bind(patient_ref)
                    .bind(&st.study_uid)
                    .bind(text(&st.study_id))
                    .bind(text(&st.accession))
                    .bind(text(&st.date))
                    .bind(text(&st.time))
                    .bind(text(&st.description))
                    .bind(text(&st.referring_physician))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                // A series UID already filed under another study stays there.
                let (series_ref, study_ref) = sqlx::query_as::<_, (i64, i64)>(q::UPSERT_SERIES)
                    .bind(account)
                    .bind(study_ref)
                    .bind(&se.series_uid)
                    .bind(text(&se.modality))
                    .bind(se.number)
                    .bind(text(&se.description))
                    .fetch_one(&mut *tx)
                    .await?;
                let inserted = sqlx::query_scalar::<_, i64>(q::INSERT_INSTANCE)
                    .bind(account)
                    .bind(study_ref)
                    .bind(series_ref)
                    .bind(sop_uid)
                    .bind(&inst.sop_class_uid)
                    .bind(&inst.transfer_syntax)
                    .bind(inst.number)
                    .bind(inst.frames)
                    .bind(inst.rows)
                    .bind(inst.columns)
                    .bind(new.size_bytes)
                    .bind(new.blob_key)
                    .bind(new.source.as_str())
                    .bind(new.received_from)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(id) = inserted else {
                    // A concurrent insert of the same SOP UID committed first:
                    // undo our upserts so a duplicate changes nothing.
                    tx.rollback().await?;
                    return match Self::duplicate(&self.write, account, sop_uid).await? {
                        Some(dup) => Ok(dup),
                        None => Err(StoreError::NotFound(format!(
                            "instance row lost for {sop_uid}"
                        ))),
                    };
                };
                for c in &new.meta.contacts {
                    let value = c.value.trim();
                    if value.is_empty() {
                        continue;
                    }
                    sqlx::query(q::INSERT_CONTACT)
                        .bind(study_ref)
                        .bind(c.kind.as_str())
                        .bind(value)
                        .bind(&c.source_tag)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(InsertOutcome::Inserted(InstanceId(id)))
            }
        }
    };
}
