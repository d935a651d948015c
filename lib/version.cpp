#include <gauth/version.hpp>

namespace gauth {

const char* version() noexcept { return GAUTH_VERSION_STRING; }

}  // namespace gauth
