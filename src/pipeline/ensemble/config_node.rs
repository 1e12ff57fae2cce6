//! `/zookeeper/config` on an ensemble member: the quorum's config text, as
//! Java ZooKeeper's `ZKDatabase.initConfigInZKDatabase` writes it when a
//! member starts (`QuorumPeerMain`) and again after a learner loads its
//! leader's snapshot (ZOOKEEPER-2819: the local config wins over the one in
//! the leader's snapshot while reconfig is off). Clients read it with
//! `getConfig` / zkCli's `config`; a standalone server leaves it empty.
//!
//! Java 3.8.0's follower, checked by hand (zkCli `get -s /zookeeper/config`):
//! data `QuorumMaj.toString()` (every `server.N=...:participant` line, then
//! `version=0`, no final newline), dataVersion -1 and mZxid the config
//! version (the `setData(path, data, -1, qv.getVersion(), now)` call),
//! mtime the moment it was written, cZxid 0, aclVersion -1.

use tracing::warn;

use crate::quorum::wire::config_text::render_config_text;
use crate::tree::CONFIG_NODE;

impl crate::pipeline::core::Core {
    /// Writes the member's config text into `/zookeeper/config`. The node is
    /// under `/zookeeper/`, so the tree digest does not change.
    pub(in crate::pipeline) fn init_config_node(&mut self) {
        let Some(m) = self.ensemble.as_deref() else {
            return;
        };
        let config = m.view.config.clone();
        let text = match render_config_text(&config) {
            Ok(text) => text,
            Err(e) => {
                warn!(error = %e, "/zookeeper/config left as it is");
                return;
            }
        };
        if self.db.tree.lookup(CONFIG_NODE).is_none() {
            let acl = self.db.acls.convert_acls(&crate::acl::read_acl_unsafe());
            self.db.tree.add_config_node(crate::tree::AclRef(acl));
        }
        let now = crate::pipeline::core::wall_ms();
        if let Err(e) = self.db.tree.set_data(
            CONFIG_NODE,
            Some(text.into_bytes()),
            -1,
            config.version,
            now,
        ) {
            warn!(error = ?e, "could not write the ensemble's config into /zookeeper/config");
        }
    }
}
