//! Jute: ZooKeeper's wire and disk serialization (filled in by the jute work).
