// UserAccessTokenCredentials against the real CurlDriver and fake gcloud
// executables (test/data/gcloud), run as real child processes.
#include "driver_fixture.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/log.hpp>
#include <gauth/oauth2/user_access_token_credentials.hpp>

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <sys/stat.h>
#include <sstream>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono_literals;
using oauth2::UserAccessTokenCredentials;
using oauth2::UserAccessTokenOptions;

namespace {

std::string fake_gcloud(const std::string& name) {
  return std::string(GAUTH_TEST_DATA_DIR) + "/gcloud/" + name;
}

UserAccessTokenOptions options_for(const std::string& name) {
  UserAccessTokenOptions o;
  o.gcloud = fake_gcloud(name);
  return o;
}

/// Child processes of this process (zombies included).
int child_process_count() {
  int count = 0;
  std::string me = std::to_string(::getpid());
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
      std::string line;
      std::getline(stat, line);
      auto close_paren = line.rfind(')');
      if (close_paren == std::string::npos) continue;
      std::istringstream rest(line.substr(close_paren + 2));
      std::string state, ppid;
      rest >> state >> ppid;
      count += ppid == me;
    }
    ::closedir(proc);
  }
  return count;
}

/// Processes whose command line mentions `needle` (to find grandchildren).
int processes_running(const std::string& needle) {
  int count = 0;
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::ifstream cmdline(std::string("/proc/") + e->d_name + "/cmdline");
      std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
      for (auto& c : text) c = c == '\0' ? ' ' : c;
      count += text.find(needle) != std::string::npos;
    }
    ::closedir(proc);
  }
  return count;
}

StatusOr<Headers> before_request(CurlDriver& driver, const gauth::Credentials& creds) {
  Outcome<StatusOr<Headers>> out;
  creds.before_request(driver, "GET", "https://example.googleapis.com/", {}, out.callback());
  REQUIRE(run_until(
      driver, [&] { return out.done(); }, 30s));
  CHECK(out.calls == 1);
  return std::move(*out.value);
}

std::string authorization(const StatusOr<Headers>& h) {
  REQUIRE(h.ok());
  return h->value_or_empty("authorization");
}

Status error_of(const StatusOr<Headers>& h) {
  REQUIRE_FALSE(h.ok());
  return h.status();
}

/// Silences gauth's log (the deprecation warning) for a test, keeping the lines.
struct CapturedLog {
  std::vector<std::string> lines;
  CapturedLog() {
    set_log_handler([this](LogLevel, std::string_view m) { lines.emplace_back(m); });
  }
  ~CapturedLog() { set_log_handler(nullptr); }
};

}  // namespace

// Mirrors test_credentials_async.py::TestUserAccessTokenCredentials::test_refresh (10.1 #19) and
// test_credentials.py::...::test_before_request (10.2 #62): gcloud's output becomes the token.
TEST_CASE("the token is what gcloud prints, applied as a Bearer header", "[gcloud]") {
  CapturedLog log;
  auto driver = make_driver();
  auto creds =
      UserAccessTokenCredentials::create(std::nullopt, std::string("quota-1"), options_for("success"));
  auto headers = before_request(*driver, *creds);
  CHECK(authorization(headers) == "Bearer ya29.fake-gcloud-token");
  CHECK(headers->value_or_empty("x-goog-user-project") == "quota-1");
  CHECK(creds->token() == std::string("ya29.fake-gcloud-token"));
  CHECK(creds->token_state() == TokenState::kFresh);  // no expiry, as in Python
  CHECK_FALSE(creds->expiry());
}

// Mirrors TestUserAccessTokenCredentials::test_refresh (10.1 #19, 10.2 #60): refresh() runs
// gcloud and stores its token.
TEST_CASE("refresh runs gcloud and stores the token", "[gcloud]") {
  CapturedLog log;
  auto driver = make_driver();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("success"));
  CHECK_FALSE(creds->token());
  Outcome<Status> out;
  creds->refresh(*driver, out.callback());
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK(out.value->ok());
  CHECK(creds->token() == std::string("ya29.fake-gcloud-token"));
}

TEST_CASE("stderr is kept apart from the token, and surrounding white space is removed", "[gcloud]") {
  CapturedLog log;
  auto driver = make_driver();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("noisy"));
  CHECK(authorization(before_request(*driver, *creds)) == "Bearer ya29.noisy-token");
}

// Mirrors test__cloud_sdk.py::test_get_auth_access_token_with_account (10.5 #147).
TEST_CASE("gcloud runs as `gcloud auth print-access-token [--account=A]`", "[gcloud]") {
  CapturedLog log;
  auto driver = make_driver();
  auto plain = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("echo-argv"));
  CHECK(authorization(before_request(*driver, *plain)) == "Bearer auth,print-access-token");
  auto with_account = plain->with_account(std::string("me@example.com"));
  CHECK(authorization(before_request(*driver, *with_account)) ==
        "Bearer auth,print-access-token,--account=me@example.com");
}

TEST_CASE("the child inherits the environment and reads an empty stdin", "[gcloud]") {
  CapturedLog log;
  ::setenv("CLOUDSDK_CONFIG", "/tmp/gauth-test-sdk-config", 1);
  auto driver = make_driver();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("env-config"));
  CHECK(authorization(before_request(*driver, *creds)) ==
        "Bearer config=/tmp/gauth-test-sdk-config,stdin=empty");
  ::unsetenv("CLOUDSDK_CONFIG");
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))  // closefrom
TEST_CASE("the child inherits no other fd of the host's, close-on-exec or not", "[gcloud][processes]") {
  CapturedLog log;
  int fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: a careless host's fd
  REQUIRE(fd >= 0);
  int high = ::fcntl(fd, F_DUPFD, 200);  // above what the shell uses for itself
  ::close(fd);
  REQUIRE(high >= 200);
  ::setenv("GAUTH_TEST_FD", std::to_string(high).c_str(), 1);
  auto driver = make_driver();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("report-fd"));
  CHECK(authorization(before_request(*driver, *creds)) == "Bearer closed");
  ::unsetenv("GAUTH_TEST_FD");
  ::close(high);
}
#endif

TEST_CASE("every gcloud failure is a clear kUserAccessTokenError", "[gcloud][errors]") {
  CapturedLog log;
  auto driver = make_driver();
  auto run = [&](UserAccessTokenOptions options) {
    auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, std::move(options));
    Status s = error_of(before_request(*driver, *creds));
    CHECK(s.code() == StatusCode::kUserAccessTokenError);
    CHECK_THAT(s.message(), Catch::StartsWith("Failed to obtain access token: "));
    return s;
  };

  SECTION("a non-zero exit, with gcloud's stderr") {
    Status s = run(options_for("fails"));
    CHECK(s.message() ==
          "Failed to obtain access token: gcloud exited with status 1: ERROR: "
          "(gcloud.auth.print-access-token) You "
          "do not currently have an active account selected. Please run:   $ gcloud auth login");
    CHECK_FALSE(s.retryable());
  }
  SECTION("killed by a signal") {
    Status s = run(options_for("killed"));
    CHECK(s.message() ==
          "Failed to obtain access token: gcloud was killed by signal 15 (Terminated): about to die");
  }
  SECTION("no output") {
    CHECK(run(options_for("silent")).message() ==
          "Failed to obtain access token: gcloud printed no access token");
  }
  SECTION("output over the cap") {
    CHECK(run(options_for("huge")).message() ==
          "Failed to obtain access token: gcloud printed more than 65536 bytes");
  }
  SECTION("output that is not a token is not quoted") {
    Status s = run(options_for("multiline"));
    CHECK(s.message() ==
          "Failed to obtain access token: gcloud printed something that is not an access token (2 lines)");
  }
  SECTION("a timeout kills the child") {
    UserAccessTokenOptions o = options_for("slow");
    o.timeout = 300ms;
    Status s = run(o);
    CHECK(s.message() == "Failed to obtain access token: gcloud did not finish within 300 ms and was killed");
    CHECK(s.retryable());
  }
  // Mirrors test__cloud_sdk.py::test_get_auth_access_token_with_exception (10.5 #148): the
  // executable cannot be run.
  SECTION("missing") {
    UserAccessTokenOptions o;
    o.gcloud = fake_gcloud("no-such-gcloud");
    CHECK_THAT(run(o).message(), Catch::Contains("cannot run gcloud: \"" + fake_gcloud("no-such-gcloud") +
                                                 "\" does not exist"));
  }
  SECTION("not on PATH") {
    UserAccessTokenOptions o;
    o.gcloud = "gauth-no-such-gcloud-on-path";
    CHECK_THAT(run(o).message(), Catch::Contains("\"gauth-no-such-gcloud-on-path\" was not found on PATH"));
  }
  SECTION("not executable") {
    CHECK_THAT(run(options_for("not-executable")).message(),
               Catch::Contains("cannot be executed: Permission denied"));
  }
}

TEST_CASE("a timeout kills the child's whole process group and reaps it", "[gcloud][processes]") {
  CapturedLog log;
  int children_before = child_process_count();
  int fds_before = open_fd_count();
  {
    auto driver = make_driver();
    UserAccessTokenOptions o = options_for("slow-with-child");
    o.timeout = 300ms;
    auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, o);
    CHECK(error_of(before_request(*driver, *creds)).retryable());
    // Reaped from the loop, while the driver runs: not by its destructor.
    REQUIRE(run_until(*driver, [&] {
      return driver->stats().fd_watches == 0 && child_process_count() == children_before;
    }));
  }
  CHECK(open_fd_count() == fds_before);
  // The grandchild (the script's `sleep 60`) went with its group.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (processes_running(fake_gcloud("slow-with-child")) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(processes_running(fake_gcloud("slow-with-child")) == 0);
}

TEST_CASE("100 concurrent before_request calls share one gcloud run", "[gcloud][single-flight]") {
  CapturedLog log;
  char dir_template[] = "/tmp/gauth-gcloud-XXXXXX";
  REQUIRE(::mkdtemp(dir_template));
  std::string counter = std::string(dir_template) + "/runs";
  std::string script = std::string(dir_template) + "/gcloud";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho run >> '" << counter << "'\nsleep 0.2\necho ya29.shared-run\n";
  }
  ::chmod(script.c_str(), 0755);
  int children_before = child_process_count();
  int fds_before = open_fd_count();
  {
    auto driver = make_driver();
    UserAccessTokenOptions o;
    o.gcloud = script;
    auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, o);
    int ok = 0, calls = 0;
    for (int i = 0; i < 100; ++i) {
      creds->before_request(*driver, "GET", "https://x", {}, [&](StatusOr<Headers> h) {
        ++calls;
        ok += h.ok() && h->value_or_empty("authorization") == "Bearer ya29.shared-run";
      });
    }
    REQUIRE(run_until(
        *driver, [&] { return calls == 100; }, 30s));
    CHECK(ok == 100);
    REQUIRE(run_until(*driver, [&] { return driver->stats().fd_watches == 0; }));

    // Python runs gcloud on every before_request: so does gauth, one run per wave.
    CHECK(authorization(before_request(*driver, *creds)) == "Bearer ya29.shared-run");
  }
  CHECK(child_process_count() == children_before);
  CHECK(open_fd_count() == fds_before);
  int runs = 0;
  std::ifstream in(counter);
  for (std::string line; std::getline(in, line);) ++runs;
  CHECK(runs == 2);
  ::unlink(counter.c_str());
  ::unlink(script.c_str());
  ::rmdir(dir_template);
}

TEST_CASE("with a cache lifetime, the token is reused until it runs out", "[gcloud][cache]") {
  CapturedLog log;
  auto driver = make_driver();
  UserAccessTokenOptions o = options_for("success");
  o.cache_lifetime = std::chrono::seconds(600);
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, o);
  CHECK(authorization(before_request(*driver, *creds)) == "Bearer ya29.fake-gcloud-token");
  REQUIRE(creds->expiry());
  auto left = *creds->expiry() - std::chrono::system_clock::now();
  CHECK(left > 600s);
  CHECK(left <= 600s + kRefreshThreshold);
  Headers fast;
  CHECK(creds->try_apply(fast));  // served without running gcloud
  CHECK(fast.value_or_empty("authorization") == "Bearer ya29.fake-gcloud-token");
}

TEST_CASE("timeouts and cache lifetimes out of range are taken to the nearest sensible value", "[gcloud]") {
  CapturedLog log;
  auto driver = make_driver();
  UserAccessTokenOptions forever = options_for("success");
  forever.timeout = std::chrono::milliseconds::max();
  forever.cache_lifetime = std::chrono::seconds::max();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, forever);
  CHECK(authorization(before_request(*driver, *creds)) == "Bearer ya29.fake-gcloud-token");
  REQUIRE(creds->expiry());
  auto left = *creds->expiry() - std::chrono::system_clock::now();
  CHECK(left > std::chrono::hours(24 * 364));
  CHECK(left < std::chrono::hours(24 * 366));
  UserAccessTokenOptions none = options_for("slow");
  none.timeout = std::chrono::milliseconds(-5);
  auto hurried = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, none);
  CHECK_THAT(error_of(before_request(*driver, *hurried)).message(), Catch::Contains("within 1 ms"));
}

TEST_CASE("without a cache lifetime the fast path never serves a gcloud token", "[gcloud][cache]") {
  CapturedLog log;
  auto driver = make_driver();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("success"));
  REQUIRE(before_request(*driver, *creds).ok());
  Headers h;
  CHECK_FALSE(creds->try_apply(h));
}

TEST_CASE("destroying the driver mid-run cancels the waiter and reaps the child", "[gcloud][teardown]") {
  CapturedLog log;
  int children_before = child_process_count();
  int fds_before = open_fd_count();
  Outcome<StatusOr<Headers>> out;
  {
    auto driver = make_driver();
    auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("slow"));
    creds->before_request(*driver, "GET", "https://x", {}, out.callback());
    REQUIRE(run_until(*driver, [&] { return child_process_count() > children_before; }));
  }
  REQUIRE(out.calls == 1);
  CHECK(out.value->status().code() == StatusCode::kCancelled);
  CHECK(child_process_count() == children_before);
  CHECK(open_fd_count() == fds_before);
}

TEST_CASE("the host's SIGCHLD handling is left alone and tolerated", "[gcloud][processes]") {
  CapturedLog log;
  struct sigaction before {};
  ::sigaction(SIGCHLD, nullptr, &before);
  auto driver = make_driver();
  auto creds = UserAccessTokenCredentials::create(std::nullopt, std::nullopt, options_for("success"));
  REQUIRE(before_request(*driver, *creds).ok());
  struct sigaction after {};
  ::sigaction(SIGCHLD, nullptr, &after);
  CHECK(after.sa_handler == before.sa_handler);

  // A host that ignores SIGCHLD has its children reaped by the kernel: the
  // exit status is then unknown, and the output decides.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGCHLD, &ignore, nullptr);
  CHECK(authorization(before_request(*driver, *creds)) == "Bearer ya29.fake-gcloud-token");
  ::sigaction(SIGCHLD, &before, nullptr);
}

// Mirrors TestUserAccessTokenCredentials::test_instance and test_with_quota_project
// (10.1 #18, #20; 10.2 #59-61), with gauth's copies.
TEST_CASE("accounts and quota projects of copies; the deprecation warning", "[gcloud]") {
  CapturedLog log;
  auto creds = UserAccessTokenCredentials::create();
  CHECK_FALSE(creds->account());
  REQUIRE(log.lines.size() == 1);
  CHECK_THAT(log.lines[0], Catch::StartsWith("UserAccessTokenCredentials is deprecated"));
  auto with_account = creds->with_account(std::string("account"));
  CHECK(with_account->account() == std::string("account"));
  auto billed = with_account->with_quota_project(std::string("project-foo"));
  CHECK(billed->quota_project_id() == std::string("project-foo"));
  CHECK(billed->account() == std::string("account"));
  CHECK(log.lines.size() == 3);
  std::shared_ptr<const gauth::Credentials> base = billed;
  CHECK(base->with_quota_project(std::nullopt)->quota_project_id() == std::nullopt);
}
