// gauth tool: `gauth demo`, the whole flow against a fake token endpoint.
#ifndef GAUTH_TOOLS_GAUTH_DEMO_HPP
#define GAUTH_TOOLS_GAUTH_DEMO_HPP

namespace gauth::tool {

/// Prints the demo's report; returns the exit status (0: every step as expected).
int run_demo();

}  // namespace gauth::tool

#endif  // GAUTH_TOOLS_GAUTH_DEMO_HPP
