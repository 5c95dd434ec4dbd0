use std::net::SocketAddr;
use std::time::Duration;

use dicom_dictionary_std::uids;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_ul::association::server::{AccessControl, ServerAssociationOptions};
use dicom_ul::pdu::{AssociationRJServiceUserReason, PDataValue, PDataValueType, Pdu, UserIdentity};
use dicom_ul::association::server::AsyncServerAssociation;
use studylink_ingest::{IngestError, Ingestor, Origin, TempObject};
use studylink_model::{AccountId, Actor, AuditEvent, IngestSource};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::command::*;

/// Our implementation class UID (a UUID-derived OID, PS3.5 §B.2).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.110472360939417442730839203347458612511";
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("STUDYLINK_", env!("CARGO_PKG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MINOR"));

#[derive(Debug, Clone)]
pub struct DimseConfig {
    pub bind: SocketAddr,
    pub ae_title: String,
    /// Calling AE titles allowed to associate; empty allows any.
    pub allowed_calling_ae_titles: Vec<String>,
    /// The clinic whose archive received instances go to.
    pub account: AccountId,
    /// Largest P-DATA PDU we accept. Bigger PDUs mean fewer round trips for cine.
    pub max_pdu_length: u32,
    /// An association silent for this long is aborted.
    pub idle_timeout: Duration,
    /// On shutdown, associations still running after this are aborted.
    pub shutdown_grace: Duration,
}

pub struct DimseServer {
    listener: TcpListener,
    cfg: DimseConfig,
    ingest: Ingestor,
}

struct CallingAeFilter(Vec<String>);

impl AccessControl for CallingAeFilter {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        if called_ae_title.trim() != this_ae_title.trim() {
            return Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized);
        }
        if !self.0.is_empty() && !self.0.iter().any(|a| a == calling_ae_title.trim()) {
            return Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized);
        }
        Ok(())
    }
}

impl DimseServer {
    pub async fn bind(cfg: DimseConfig, ingest: Ingestor) -> std::io::Result<Self> {
        let listener = TcpListener::bind(cfg.bind).await?;
        Ok(DimseServer { listener, cfg, ingest })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts associations until `shutdown` fires, then waits for running ones
    /// (up to the grace period) so no acknowledged-but-unstored instance exists.
    pub async fn serve(self, shutdown: CancellationToken) {
        let DimseServer { listener, cfg, ingest } = self;
        let tracker = TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            let (socket, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "DICOM accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = socket.set_nodelay(true);
            let cfg = cfg.clone();
            let ingest = ingest.clone();
            tracker.spawn(async move {
                metrics::gauge!("studylink_dimse_associations_active").increment(1.0);
                handle_connection(socket, peer, cfg, ingest).await;
                metrics::gauge!("studylink_dimse_associations_active").decrement(1.0);
            });
        }
        // Close the port now: a device trying to connect during shutdown should
        // be refused at once (and retry later), not wait in the backlog.
        drop(listener);
        tracker.close();
        if !tracker.is_empty() {
            tracing::info!(running = tracker.len(), "waiting for DICOM associations to finish");
        }
        if tokio::time::timeout(cfg.shutdown_grace, tracker.wait()).await.is_err() {
            tracing::warn!("shutdown grace period over; aborting remaining DICOM associations");
        }
    }
}

async fn handle_connection(socket: TcpStream, peer: SocketAddr, cfg: DimseConfig, ingest: Ingestor) {
    let options = ServerAssociationOptions::new()
        .ae_access_control(CallingAeFilter(cfg.allowed_calling_ae_titles.clone()))
        .ae_title(cfg.ae_title.clone())
        .promiscuous(true)
        .strict(false)
        .max_pdu_length(cfg.max_pdu_length)
        .read_timeout(cfg.idle_timeout);
    let assoc = match options.establish_async(socket).await {
        Ok(a) => a,
        Err(e) => {
            metrics::counter!("studylink_dimse_associations_rejected_total").increment(1);
            tracing::warn!(%peer, reason = %e, "DICOM association refused");
            return;
        }
    };
    let calling = dicom_ul::association::Association::peer_ae_title(&assoc).trim().to_string();
    metrics::counter!("studylink_dimse_associations_total").increment(1);
    tracing::info!(%peer, calling_ae = %calling, "DICOM association established");
    let mut session = Association { assoc, cfg, ingest, calling, stored: 0, duplicates: 0, failed: 0, bytes: 0 };
    let outcome = session.run().await;
    tracing::info!(
        %peer,
        calling_ae = %session.calling,
        stored = session.stored,
        duplicates = session.duplicates,
        failed = session.failed,
        outcome,
        "DICOM association ended"
    );
    if session.stored + session.failed > 0 {
        let detail = format!(
            r#"{{"stored":{},"duplicates":{},"failed":{},"bytes":{}}}"#,
            session.stored, session.duplicates, session.failed, session.bytes
        );
        let _ = session
            .ingest
            .store()
            .audit(&AuditEvent {
                account_id: Some(session.cfg.account),
                actor: Actor::Device(session.calling.clone()),
                action: "dicom.association".into(),
                target_kind: None,
                target_id: None,
                detail,
            })
            .await;
    }
}

/// The object being received on an association.
struct Pending {
    cmd: Command,
    pc_id: u8,
    tmp: Option<TempObject>,
    error: Option<IngestError>,
}

struct Association {
    assoc: AsyncServerAssociation<TcpStream>,
    cfg: DimseConfig,
    ingest: Ingestor,
    calling: String,
    stored: u64,
    duplicates: u64,
    failed: u64,
    bytes: u64,
}

impl Association {
    async fn run(&mut self) -> &'static str {
        let mut command_buf: Vec<u8> = Vec::new();
        let mut pending: Option<Pending> = None;
        loop {
            let pdu = match self.assoc.receive().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(calling_ae = %self.calling, error = %e, "DICOM receive failed");
                    return "broken";
                }
            };
            match pdu {
                Pdu::PData { data } => {
                    for pdv in data {
                        match pdv.value_type {
                            PDataValueType::Command => {
                                command_buf.extend_from_slice(&pdv.data);
                                if !pdv.is_last {
                                    continue;
                                }
                                let bytes = std::mem::take(&mut command_buf);
                                match self.on_command(&bytes, pdv.presentation_context_id).await {
                                    Ok(p) => pending = p,
                                    Err(why) => return self.abort(why).await,
                                }
                            }
                            PDataValueType::Data => {
                                let Some(p) = pending.as_mut() else {
                                    return self.abort("data received without a command").await;
                                };
                                if p.error.is_none()
                                    && let Some(tmp) = p.tmp.as_mut()
                                    && let Err(e) = tmp.write_all(&pdv.data)
                                {
                                    p.error = Some(e);
                                    p.tmp = None; // drop the spool file now; keep draining
                                }
                                if pdv.is_last {
                                    let p = pending.take().expect("checked above");
                                    if let Err(e) = self.finish_store(p).await {
                                        tracing::warn!(calling_ae = %self.calling, error = %e, "sending C-STORE response failed");
                                        return "broken";
                                    }
                                }
                            }
                        }
                    }
                }
                Pdu::ReleaseRQ => {
                    let _ = self.assoc.send(&Pdu::ReleaseRP).await;
                    return "released";
                }
                Pdu::AbortRQ { .. } => return "aborted by peer",
                _ => return self.abort("unexpected PDU").await,
            }
        }
    }

    async fn abort(&mut self, why: &'static str) -> &'static str {
        tracing::warn!(calling_ae = %self.calling, why, "aborting DICOM association");
        let _ = self
            .assoc
            .send(&Pdu::AbortRQ {
                source: dicom_ul::pdu::AbortRQSource::ServiceProvider(
                    dicom_ul::pdu::AbortRQServiceProviderReason::UnexpectedPdu,
                ),
            })
            .await;
        "aborted"
    }

    /// Handles a complete command set; returns the pending store, if one starts.
    async fn on_command(&mut self, bytes: &[u8], pc_id: u8) -> Result<Option<Pending>, &'static str> {
        let cmd = parse_command(bytes).map_err(|_| "unreadable command set")?;
        match cmd.field {
            C_ECHO_RQ => {
                self.respond(pc_id, response(C_ECHO_RSP, &cmd, STATUS_SUCCESS, None)).await.map_err(|_| "send failed")?;
                Ok(None)
            }
            C_STORE_RQ if cmd.has_data_set => {
                let ts = self
                    .assoc
                    .presentation_contexts()
                    .iter()
                    .find(|pc| pc.id == pc_id)
                    .map(|pc| pc.transfer_syntax.clone())
                    .ok_or("data on an unknown presentation context")?;
                let mut p = Pending { cmd, pc_id, tmp: None, error: None };
                match self.start_file(&p.cmd, &ts) {
                    Ok(tmp) => p.tmp = Some(tmp),
                    Err(e) => p.error = Some(e),
                }
                Ok(Some(p))
            }
            _ if cmd.has_data_set => Err("unsupported DIMSE operation with a data set"),
            field => {
                // A request we don't serve (C-FIND, C-MOVE…): refuse it cleanly.
                let rsp = response(field | 0x8000, &cmd, STATUS_UNRECOGNIZED_OPERATION, Some("operation not supported"));
                self.respond(pc_id, rsp).await.map_err(|_| "send failed")?;
                Ok(None)
            }
        }
    }

    /// Opens the spool file and writes the Part 10 header the device didn't send.
    fn start_file(&self, cmd: &Command, ts: &str) -> Result<TempObject, IngestError> {
        let mut tmp = self.ingest.new_temp_for(self.cfg.account)?;
        let meta = FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(cmd.sop_class_uid.as_str())
            .media_storage_sop_instance_uid(cmd.sop_instance_uid.as_str())
            .transfer_syntax(ts.trim_end_matches('\0'))
            .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
            .implementation_version_name(IMPLEMENTATION_VERSION_NAME)
            .source_application_entity_title(self.calling.as_str())
            .build()
            .map_err(|e| IngestError::Malformed(format!("cannot build file meta information: {e}")))?;
        let mut head = vec![0u8; 128];
        head.extend_from_slice(b"DICM");
        meta.write(&mut head).map_err(|e| IngestError::Malformed(format!("cannot write file meta information: {e}")))?;
        tmp.write_all(&head)?;
        Ok(tmp)
    }

    async fn finish_store(&mut self, p: Pending) -> Result<(), dicom_ul::association::Error> {
        let result = match (p.error, p.tmp) {
            (Some(e), _) => Err(e),
            (None, Some(tmp)) => {
                let origin = Origin {
                    source: IngestSource::Dimse,
                    received_from: self.calling.clone(),
                    actor: Actor::Device(self.calling.clone()),
                    expected_sop_uid: Some(p.cmd.sop_instance_uid.clone()),
                };
                self.ingest.ingest_file(self.cfg.account, tmp, &origin).await
            }
            (None, None) => Err(IngestError::Storage("no spool file".into())),
        };
        let (status, comment) = match &result {
            Ok(done) => {
                if done.duplicate {
                    self.duplicates += 1;
                } else {
                    self.stored += 1;
                    self.bytes += done.size_bytes;
                }
                (STATUS_SUCCESS, None)
            }
            Err(e) => {
                self.failed += 1;
                let status = match e {
                    IngestError::Mismatch(_) => STATUS_MISMATCH,
                    IngestError::TooLarge { .. } | IngestError::Storage(_) | IngestError::Io(_) => STATUS_OUT_OF_RESOURCES,
                    _ => STATUS_CANNOT_UNDERSTAND,
                };
                (status, Some(e.to_string()))
            }
        };
        self.respond(p.pc_id, response(C_STORE_RSP, &p.cmd, status, comment.as_deref())).await
    }

    async fn respond(&mut self, pc_id: u8, data: Vec<u8>) -> Result<(), dicom_ul::association::Error> {
        self.assoc
            .send(&Pdu::PData {
                data: vec![PDataValue {
                    presentation_context_id: pc_id,
                    value_type: PDataValueType::Command,
                    is_last: true,
                    data,
                }],
            })
            .await
    }
}

#[allow(dead_code)]
const VERIFICATION: &str = uids::VERIFICATION;
