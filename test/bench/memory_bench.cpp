// 100,000 credentials in one process, each with a token: target well under 150 MB.
#include "bench_util.hpp"

#include <gauth/oauth2/credentials.hpp>

#include <cstdio>
#include <vector>

using namespace gauth;
using namespace std::chrono;

int main() {
  constexpr int kCount = 100'000;
  long before = bench::resident_bytes();
  std::vector<std::shared_ptr<const oauth2::Credentials>> all;
  all.reserve(kCount);
  auto expiry = system_clock::now() + hours(1);
  for (int i = 0; i < kCount; ++i) {
    std::string n = std::to_string(i);
    // Realistic sizes: Google client ids ~72 bytes, secrets 35, refresh
    // tokens ~103, access tokens ~220.
    all.push_back(
        oauth2::Credentials::Builder()
            .client_id("123456789012-abcdefghijklmnopqrstuvwxyz" + n + ".apps.googleusercontent.com")
            .client_secret("GOCSPX-abcdefghijklmnopqrstuvwx" + n)
            .refresh_token("1//0abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0123456789-" +
                           n)
            .token("ya29." + std::string(210, 'a') + n)
            .expiry(expiry)
            .quota_project_id("project-" + n)
            .build());
  }
  long after = bench::resident_bytes();
  double mb = double(after - before) / (1024.0 * 1024.0);
  std::printf("memory: %d credentials, each with a 220-byte access token\n", kCount);
  std::printf("  resident growth: %.1f MiB (%.0f bytes per credential)\n", mb,
              double(after - before) / kCount);
  bench::require(mb < 150.0, "100,000 credentials fit in 150 MB");
  return 0;
}
