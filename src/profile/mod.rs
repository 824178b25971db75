//! Machine profiles: YAML files in `profiles/`, built into the binary, and users' own files.
