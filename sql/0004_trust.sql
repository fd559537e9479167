-- Trust bundles: versions only grow, across instances and restarts.
CREATE SEQUENCE trust_bundle_version START 1;
