//! zoo.cfg parsing into a typed configuration.
