// gauth: guard for private headers (they never reach the public API).
#ifndef GAUTH_LIB_PRIVATE_HPP
#define GAUTH_LIB_PRIVATE_HPP

#ifndef GAUTH_INTERNAL
#  error "gauth private headers must not be included outside the library and its internal tests"
#endif

#endif  // GAUTH_LIB_PRIVATE_HPP
