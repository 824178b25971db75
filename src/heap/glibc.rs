//! The glibc 2.36 allocator model.
