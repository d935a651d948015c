// End-to-end tests of the gauth tool: the built binary, run as a child
// process, against the loopback token server and fake gcloud executables.
#include "process_runner.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace gauth::test;
using namespace std::chrono_literals;

namespace {

// Distinctive secrets, to look for in every output.
constexpr char kClientSecret[] = "client-secret-QX7Z9";
constexpr char kRefreshToken[] = "1//refresh-token-K3J8W";

using Run = ProcessResult;

/// Runs the tool (GAUTH_TOOL) with `args` and the environment changed by `env`.
Run run_tool(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  const char* tool = std::getenv("GAUTH_TOOL");
  REQUIRE(tool != nullptr);
  return run_process(tool, args, env);
}

/// A temporary directory (and HOME) for one test.
class Sandbox {
 public:
  Sandbox() {
    char dir[] = "/tmp/gauth-cli-XXXXXX";
    root_ = ::mkdtemp(dir);
  }
  ~Sandbox() { std::system(("rm -rf '" + root_ + "'").c_str()); }
  std::string write(const std::string& relative, const std::string& text) {
    std::string path = root_ + "/" + relative;
    std::system(("mkdir -p \"$(dirname '" + path + "')\"").c_str());
    std::ofstream(path) << text;
    return path;
  }
  /// An environment with no ADC set up: HOME here, the variables unset.
  std::map<std::string, std::string> env() const {
    return {{"HOME", root_},
            {"GOOGLE_APPLICATION_CREDENTIALS", ""},
            {"CLOUDSDK_CONFIG", ""},
            {"GOOGLE_CLOUD_QUOTA_PROJECT", ""}};
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

std::string user_json(const std::string& extra = "") {
  return std::string(
             R"({"type": "authorized_user", "client_id": "123.apps.googleusercontent.com", "client_secret": ")") +
         kClientSecret + R"(", "refresh_token": ")" + kRefreshToken + "\"" + extra + "}";
}

Reply token(const std::string& access_token = "ya29.cli-token") {
  return Reply::json(200, R"({"access_token": ")" + access_token + R"(", "expires_in": 3599})");
}

void check_no_secret(const Run& r) {
  for (const std::string& text : {r.out, r.err}) {
    INFO(text);
    CHECK(text.find(kClientSecret) == std::string::npos);
    CHECK(text.find(kRefreshToken) == std::string::npos);
    CHECK(text.find("refresh-token-K3J8W") == std::string::npos);
  }
}

std::string fake_gcloud(const std::string& name) {
  return std::string(GAUTH_TEST_DATA_DIR) + "/gcloud/" + name;
}

}  // namespace

TEST_CASE("--version and --help", "[cli]") {
  Run v = run_tool({"--version"});
  CHECK(v.status == 0);
  CHECK(v.out == "gauth 0.1.0\n");
  CHECK(v.err.empty());
  Run h = run_tool({"--help"});
  CHECK(h.status == 0);
  CHECK_THAT(h.out, Catch::Contains("gauth print-access-token [options]"));
  CHECK_THAT(h.out, Catch::Contains("--credentials FILE"));
  for (const char* command : {"print-access-token", "print-headers", "to-json", "demo"}) {
    Run c = run_tool({command, "--help"});
    CHECK(c.status == 0);
    CHECK_THAT(c.out, Catch::StartsWith(std::string("Usage: gauth ") + command));
  }
}

TEST_CASE("usage errors: one line on stderr, exit status 2", "[cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{}, "no command given (see gauth --help)"},
      {{"frobnicate"}, "unknown command \"frobnicate\" (see gauth --help)"},
      {{"print-headers", "--bogus"}, "unknown option --bogus (see gauth --help)"},
      {{"print-headers", "--credentials"}, "--credentials needs a value"},
      {{"print-headers", "--timeout", "soon"},
       "--timeout wants a number of seconds (more than 0, at most 86400), not \"soon\""},
      {{"print-headers", "--account", "me"}, "--account needs --gcloud"},
      {{"print-headers", "--strip", "x"}, "--strip is an option of to-json only"},
      {{"to-json", "--gcloud"}, "to-json needs user credentials (a credentials file), not --gcloud"},
      {{"demo", "--credentials", "x"}, "demo takes no options: it runs against its own fake token endpoint"},
      {{"print-headers", "extra"}, "unexpected argument \"extra\""},
  };
  for (const auto& c : cases) {
    Run r = run_tool(c.args);
    INFO(c.message);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "gauth: error: " + c.message + "\n");
  }
}

TEST_CASE("print-access-token prints the token and a newline, nothing else", "[cli]") {
  Sandbox box;
  TestServer server;
  server.enqueue(token());
  std::string creds = box.write("creds.json", user_json());
  Run r = run_tool({"print-access-token", "--credentials", creds, "--token-uri", server.url("/token")},
                   box.env());
  CHECK(r.status == 0);
  CHECK(r.out == "ya29.cli-token\n");
  CHECK(r.err.empty());
  check_no_secret(r);
  REQUIRE(server.request_count() == 1);
  CHECK_THAT(server.requests()[0].body, Catch::Contains("grant_type=refresh_token"));
}

TEST_CASE("print-access-token refreshes a token close to its expiry before printing", "[cli]") {
  // Within the refresh threshold the library would apply the old token and
  // refresh in the background; the tool exits at once, so it refreshes first.
  Sandbox box;
  TestServer server;
  server.enqueue(token("ya29.new"));
  std::time_t soon = std::time(nullptr) + 100;
  char expiry[32];
  std::strftime(expiry, sizeof expiry, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&soon));
  std::string creds = box.write(
      "creds.json", user_json(std::string(R"(, "token": "ya29.old", "expiry": ")") + expiry + "\""));
  Run r = run_tool({"print-access-token", "--credentials", creds, "--token-uri", server.url("/token")},
                   box.env());
  CHECK(r.status == 0);
  CHECK(r.out == "ya29.new\n");
  CHECK(server.request_count() == 1);
}

TEST_CASE("output that cannot be written is a failure", "[cli][errors]") {
  Sandbox box;
  TestServer server;
  server.set_default(token());
  std::string creds = box.write("creds.json", user_json());
  Run r =
      run_process("/bin/sh",
                  {"-c", "exec \"$0\" print-access-token --credentials \"$1\" --token-uri \"$2\" > /dev/full",
                   std::getenv("GAUTH_TOOL"), creds, server.url("/token")},
                  box.env());
  CHECK(r.status == 1);
  CHECK(r.err == "gauth: error: cannot write the output\n");
  // A pipe nobody reads any more: EPIPE, not death by SIGPIPE. (The token
  // endpoint answers late, so the reader has surely gone by then.)
  Reply late = token();
  late.delay = 300ms;
  server.set_default(late);
  Run piped = run_process("/bin/sh",
                          {"-c",
                           "(\"$0\" print-access-token --credentials \"$1\" --token-uri \"$2\"; echo "
                           "\"status=$?\" >&2) | (exec 0<&-; sleep 1)",
                           std::getenv("GAUTH_TOOL"), creds, server.url("/token")},
                          box.env());
  CHECK(piped.err == "gauth: error: cannot write the output\nstatus=1\n");
}

TEST_CASE("print-headers prints name: value lines; scopes and quota project apply", "[cli]") {
  Sandbox box;
  TestServer server;
  server.enqueue(token());
  std::string creds = box.write("creds.json", user_json());
  Run r =
      run_tool({"print-headers", "--credentials=" + creds, "--token-uri", server.url("/token"), "--scopes",
                "email,https://www.googleapis.com/auth/pubsub", "--quota-project", "billing-1"},
               box.env());
  CHECK(r.status == 0);
  CHECK(r.out ==
        "authorization: Bearer ya29.cli-token\nx-goog-user-project: billing-1\n"
        "x-goog-api-client: cred-type/u\n");
  CHECK(r.err.empty());
  check_no_secret(r);
  CHECK_THAT(server.requests()[0].body,
             Catch::EndsWith("&scope=email+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub"));

  server.enqueue(token());
  Run spaced = run_tool(
      {"print-headers", "--credentials", creds, "--token-uri", server.url("/token"), "--scopes", "a b"},
      box.env());
  CHECK(spaced.status == 0);
  CHECK_THAT(server.requests()[1].body, Catch::EndsWith("&scope=a+b"));
}

TEST_CASE("to-json prints the credentials, stripped and refreshed on request", "[cli]") {
  Sandbox box;
  TestServer server;
  std::string creds = box.write("creds.json", user_json(R"(, "quota_project_id": "q1")"));
  Run plain = run_tool({"to-json", "--credentials", creds}, box.env());
  CHECK(plain.status == 0);
  CHECK_THAT(plain.out, Catch::Contains(R"("client_secret": "client-secret-QX7Z9")"));
  CHECK_THAT(plain.out, Catch::Contains(R"("quota_project_id": "q1", "type": "authorized_user"})"));
  CHECK(server.request_count() == 0);

  Run stripped =
      run_tool({"to-json", "--credentials", creds, "--strip", "client_secret,refresh_token"}, box.env());
  CHECK(stripped.status == 0);
  check_no_secret(stripped);

  server.enqueue(token("ya29.refreshed"));
  Run refreshed = run_tool({"to-json", "--credentials", creds, "--token-uri", server.url("/token"),
                            "--refresh", "--strip", "client_secret,refresh_token"},
                           box.env());
  CHECK(refreshed.status == 0);
  CHECK_THAT(refreshed.out, Catch::StartsWith(R"({"token": "ya29.refreshed")"));
  CHECK_THAT(refreshed.out, Catch::Contains(R"("expiry": ")"));
  check_no_secret(refreshed);
}

TEST_CASE("refresh and transport failures exit 1 with the error on stderr, and no secret", "[cli][errors]") {
  Sandbox box;
  TestServer server;
  std::string creds = box.write("creds.json", user_json());
  auto run = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"print-access-token", "--credentials", creds, "--token-uri",
                                     server.url("/token")};
    args.insert(args.end(), extra.begin(), extra.end());
    Run r = run_tool(args, box.env());
    CHECK(r.out.empty());
    check_no_secret(r);
    return r;
  };

  SECTION("a revoked token") {
    server.enqueue(Reply::json(
        400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})"));
    Run r = run();
    CHECK(r.status == 1);
    CHECK(r.err == "gauth: error: invalid_grant: Token has been expired or revoked.\n");
  }
  SECTION("reauthentication needed") {
    server.enqueue(Reply::json(400, R"({"error":"invalid_grant","error_subtype":"rapt_required"})"));
    Run r = run();
    CHECK(r.status == 1);
    CHECK(r.err ==
          "gauth: error: Reauthentication is needed. Please run `gcloud auth application-default login` to "
          "reauthenticate.\n");
  }
  SECTION("a server that echoes the request in its error") {
    server.set_handler(
        [](const RecordedRequest& req) { return Reply::text(400, "bad request: " + req.body); });
    Run r = run();
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::StartsWith("gauth: error: bad request: grant_type=refresh_token"));
    CHECK_THAT(r.err, Catch::Contains("<redacted>"));
  }
  SECTION("a stalled endpoint and --timeout") {
    server.set_default(Reply::with_fault(Reply::Fault::kStall));
    Run r = run({"--timeout", "0.5"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::StartsWith("gauth: error: token refresh timed out after 500 ms"));
  }
  SECTION("nobody listening") {
    int port;
    {
      TestServer gone;
      port = gone.port();
    }
    Run r = run_tool({"print-access-token", "--credentials", creds, "--token-uri",
                      "http://127.0.0.1:" + std::to_string(port) + "/token"},
                     box.env());
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::StartsWith("gauth: error: POST http://127.0.0.1:"));
    check_no_secret(r);
  }
  SECTION("plain http to a non-loopback token endpoint is refused before sending anything") {
    Run r = run_tool(
        {"print-access-token", "--credentials", creds, "--token-uri", "http://example.com/token"}, box.env());
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("only https is allowed"));
  }
}

TEST_CASE("--ca-bundle trusts a private CA for an https token endpoint", "[cli][tls]") {
  Sandbox box;
  TestServer server(TestServer::Tls::kOn);
  server.set_default(token("ya29.over-tls"));
  std::string creds = box.write("creds.json", user_json());
  Run refused = run_tool({"print-access-token", "--credentials", creds, "--token-uri", server.url("/token")},
                         box.env());
  CHECK(refused.status == 1);
  CHECK_THAT(refused.err, Catch::Contains("TLS verification failed"));
  Run trusted = run_tool({"print-access-token", "--credentials", creds, "--token-uri", server.url("/token"),
                          "--ca-bundle", TestServer::ca_bundle_path()},
                         box.env());
  CHECK(trusted.status == 0);
  CHECK(trusted.out == "ya29.over-tls\n");
}

TEST_CASE("file and configuration errors exit 2", "[cli][errors]") {
  Sandbox box;
  Run missing = run_tool({"print-headers", "--credentials", box.root() + "/nope.json"}, box.env());
  CHECK(missing.status == 2);
  CHECK(missing.err == "gauth: error: File " + box.root() + "/nope.json was not found.\n");
  std::string broken = box.write("broken.json", "{\"type\": ");
  Run bad = run_tool({"print-headers", "--credentials", broken}, box.env());
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("gauth: error: File " + broken + " is not a valid json file"));
  std::string sa = box.write("sa.json", R"({"type": "service_account"})");
  Run wrong = run_tool({"print-headers", "--credentials", sa}, box.env());
  CHECK(wrong.status == 2);
  CHECK_THAT(wrong.err,
             Catch::Contains("holds credentials of type service_account, which gauth does not support"));
  std::string incomplete = box.write("incomplete.json", R"({"type": "authorized_user", "client_id": "x"})");
  Run partial = run_tool({"print-headers", "--credentials", incomplete}, box.env());
  CHECK(partial.status == 2);
  CHECK_THAT(partial.err, Catch::Contains("missing fields refresh_token, client_secret"));
  std::string creds = box.write("creds.json", user_json());
  Run no_ca = run_tool({"print-headers", "--credentials", creds, "--ca-bundle", box.root() + "/missing.pem"},
                       box.env());
  CHECK(no_ca.status == 2);
  CHECK(no_ca.err == "gauth: error: cannot read the --ca-bundle file \"" + box.root() +
                         "/missing.pem\": No such file or directory\n");
  Run dir_ca = run_tool({"print-headers", "--credentials", creds, "--ca-bundle", box.root()}, box.env());
  CHECK(dir_ca.status == 2);
  CHECK(dir_ca.err ==
        "gauth: error: cannot read the --ca-bundle file \"" + box.root() + "\": Is a directory\n");
  // A value with line breaks in it still makes a one-line error.
  std::string odd = box.write("odd.json", user_json(R"(, "token": "t", "expiry": "2020-01-01\nT00:00:00Z")"));
  Run multi = run_tool({"print-headers", "--credentials", odd}, box.env());
  CHECK(multi.status == 2);
  CHECK_THAT(multi.err,
             Catch::Contains("Authorized user info has an invalid expiry \"2020-01-01 T00:00:00Z\""));
  CHECK(multi.err.find('\n') == multi.err.size() - 1);
}

TEST_CASE("Application Default Credentials: the environment decides", "[cli][adc]") {
  Sandbox box;
  TestServer server;
  server.set_default(token("ya29.adc"));
  auto env = box.env();

  SECTION("nothing set up") {
    Run r = run_tool({"print-headers"}, env);
    CHECK(r.status == 2);
    CHECK(r.err ==
          "gauth: error: Your default credentials were not found. To set up Application Default "
          "Credentials, see https://cloud.google.com/docs/authentication/external/set-up-adc for more "
          "information.\n");
  }
  SECTION("gcloud's file in HOME") {
    box.write(".config/gcloud/application_default_credentials.json", user_json());
    Run r = run_tool({"print-access-token", "--token-uri", server.url("/token")}, env);
    CHECK(r.status == 0);
    CHECK(r.out == "ya29.adc\n");
  }
  SECTION("CLOUDSDK_CONFIG") {
    box.write("sdk/application_default_credentials.json", user_json());
    env["CLOUDSDK_CONFIG"] = box.root() + "/sdk";
    CHECK(run_tool({"print-access-token", "--token-uri", server.url("/token")}, env).out == "ya29.adc\n");
  }
  SECTION("GOOGLE_APPLICATION_CREDENTIALS, and GOOGLE_CLOUD_QUOTA_PROJECT") {
    env["GOOGLE_APPLICATION_CREDENTIALS"] = box.write("explicit.json", user_json());
    env["GOOGLE_CLOUD_QUOTA_PROJECT"] = "env-project";
    Run r = run_tool({"print-headers", "--token-uri", server.url("/token")}, env);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("x-goog-user-project: env-project\n"));
    check_no_secret(r);
  }
  SECTION("Cloud SDK credentials without a quota project: a warning on stderr") {
    box.write(
        ".config/gcloud/application_default_credentials.json",
        R"({"type": "authorized_user", "client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com", "client_secret": "s", "refresh_token": "r"})");
    Run r = run_tool({"print-access-token", "--token-uri", server.url("/token")}, env);
    CHECK(r.status == 0);
    CHECK(r.out == "ya29.adc\n");
    CHECK_THAT(r.err, Catch::StartsWith("gauth: warning: Your application has authenticated using end user "
                                        "credentials from Google Cloud SDK without a quota project."));
  }
}

TEST_CASE("--gcloud runs gcloud, found on PATH", "[cli][gcloud]") {
  Sandbox box;
  auto env = box.env();
  // A directory on PATH whose "gcloud" is one of the fakes.
  auto use_gcloud = [&](const std::string& fake) {
    std::string bin = box.root() + "/bin-" + fake;
    ::mkdir(bin.c_str(), 0755);
    std::string link = bin + "/gcloud";
    REQUIRE(::symlink(fake_gcloud(fake).c_str(), link.c_str()) == 0);
    env["PATH"] = bin + ":/usr/bin:/bin";
  };
  SECTION("a token") {
    use_gcloud("success");
    Run r = run_tool({"print-access-token", "--gcloud"}, env);
    CHECK(r.status == 0);
    CHECK(r.out == "ya29.fake-gcloud-token\n");
    CHECK(r.err.empty());  // no deprecation notice from the tool
  }
  SECTION("one gcloud run per command") {
    use_gcloud("counted");
    env["GAUTH_TEST_RUNS"] = box.root() + "/runs";
    Run r = run_tool({"print-access-token", "--gcloud"}, env);
    CHECK(r.status == 0);
    CHECK(r.out == "ya29.counted-token\n");
    std::ifstream runs(box.root() + "/runs");
    std::string all((std::istreambuf_iterator<char>(runs)), std::istreambuf_iterator<char>());
    CHECK(all == "run\n");
  }
  SECTION("--account and --quota-project") {
    use_gcloud("echo-argv");
    Run r =
        run_tool({"print-headers", "--gcloud", "--account", "me@example.com", "--quota-project", "p"}, env);
    CHECK(r.status == 0);
    CHECK(r.out ==
          "authorization: Bearer auth,print-access-token,--account=me@example.com\nx-goog-user-project: p\n");
  }
  SECTION("gcloud fails") {
    use_gcloud("fails");
    Run r = run_tool({"print-access-token", "--gcloud"}, env);
    CHECK(r.status == 1);
    CHECK_THAT(r.err,
               Catch::StartsWith("gauth: error: Failed to obtain access token: gcloud exited with status 1: "
                                 "ERROR: (gcloud.auth.print-access-token)"));
    CHECK(r.out.empty());
  }
  SECTION("no gcloud at all") {
    env["PATH"] = box.root() + "/empty";
    Run r = run_tool({"print-access-token", "--gcloud"}, env);
    CHECK(r.status == 1);
    CHECK(
        r.err ==
        "gauth: error: Failed to obtain access token: cannot run gcloud: \"gcloud\" was not found on PATH\n");
  }
  SECTION("--timeout kills a hanging gcloud") {
    use_gcloud("slow");
    Run r = run_tool({"print-access-token", "--gcloud", "--timeout", "0.3"}, env);
    CHECK(r.status == 1);
    CHECK(
        r.err ==
        "gauth: error: Failed to obtain access token: gcloud did not finish within 300 ms and was killed\n");
  }
}

TEST_CASE("gauth demo runs offline and reports every step as expected", "[cli][demo]") {
  Run r = run_tool({"demo"}, {{"GOOGLE_APPLICATION_CREDENTIALS", ""}, {"HOME", "/nonexistent"}});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains("1. Refresh"));
  CHECK_THAT(r.out, Catch::Contains("by 1 POST"));
  CHECK_THAT(r.out, Catch::Contains("REFRESH_ERROR: invalid_grant: Token has been expired or revoked."));
  CHECK_THAT(r.out, Catch::EndsWith("All 6 steps behaved as expected.\n"));
}
