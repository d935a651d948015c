// Application Default Credentials discovery, in a temporary HOME.
#include <gauth/default_credentials.hpp>
#include <gauth/log.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace gauth;

namespace {

constexpr char kUserInfo[] =
    R"({"client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala", "type": "authorized_user"})";

/// A temporary HOME and a clean ADC environment for one test; restores both.
class AdcSandbox {
 public:
  AdcSandbox() {
    char dir[] = "/tmp/gauth-adc-XXXXXX";
    root_ = ::mkdtemp(dir);
    for (const char* name : kVariables) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(name);
    }
    ::setenv("HOME", root_.c_str(), 1);
    set_log_handler([this](LogLevel, std::string_view m) { log.emplace_back(m); });
  }
  ~AdcSandbox() {
    set_log_handler(nullptr);
    for (auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name, value->c_str(), 1);
      } else {
        ::unsetenv(name);
      }
    }
    std::system(("rm -rf '" + root_ + "'").c_str());
  }
  /// Writes `text` to `relative` under the sandbox; returns its path.
  std::string write(const std::string& relative, const std::string& text) {
    std::string path = root_ + "/" + relative;
    std::system(("mkdir -p \"$(dirname '" + path + "')\"").c_str());
    std::ofstream(path) << text;
    return path;
  }
  const std::string& root() const { return root_; }
  std::vector<std::string> log;

 private:
  static constexpr const char* kVariables[] = {"HOME", "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG",
                                               "GOOGLE_CLOUD_QUOTA_PROJECT"};
  std::string root_;
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

}  // namespace

TEST_CASE("nothing anywhere: kNotFound with Python's guidance", "[adc]") {
  AdcSandbox box;
  auto c = load_default_credentials();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kNotFound);
  CHECK(c.status().message() ==
        "Your default credentials were not found. To set up Application Default Credentials, see "
        "https://cloud.google.com/docs/authentication/external/set-up-adc for more information.");
}

TEST_CASE("GOOGLE_APPLICATION_CREDENTIALS comes first, and is recorded as the source", "[adc]") {
  AdcSandbox box;
  box.write(
      ".config/gcloud/application_default_credentials.json",
      R"({"client_id": "gcloud", "client_secret": "s", "refresh_token": "r", "type": "authorized_user"})");
  std::string path = box.write("explicit.json", kUserInfo);
  ::setenv("GOOGLE_APPLICATION_CREDENTIALS", path.c_str(), 1);
  auto c = load_default_credentials();
  REQUIRE(c.ok());
  CHECK((*c)->client_id() == std::string("123"));
  REQUIRE((*c)->get_cred_info());
  CHECK((*c)->get_cred_info()->credential_source ==
        path + " file via the GOOGLE_APPLICATION_CREDENTIALS environment variable");
  CHECK((*c)->get_cred_info()->credential_type == "user credentials");
}

TEST_CASE("an empty GOOGLE_APPLICATION_CREDENTIALS counts as unset", "[adc]") {
  AdcSandbox box;
  box.write(".config/gcloud/application_default_credentials.json", kUserInfo);
  ::setenv("GOOGLE_APPLICATION_CREDENTIALS", "", 1);
  auto c = load_default_credentials();
  REQUIRE(c.ok());
  CHECK((*c)->get_cred_info()->credential_source ==
        box.root() + "/.config/gcloud/application_default_credentials.json");
}

TEST_CASE("a missing GOOGLE_APPLICATION_CREDENTIALS file is named", "[adc]") {
  AdcSandbox box;
  ::setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/creds.json", 1);
  auto c = load_default_credentials();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kNotFound);
  CHECK(c.status().message() == "File /nonexistent/creds.json was not found.");
}

TEST_CASE("CLOUDSDK_CONFIG moves gcloud's file", "[adc]") {
  AdcSandbox box;
  box.write("sdk/application_default_credentials.json", kUserInfo);
  ::setenv("CLOUDSDK_CONFIG", (box.root() + "/sdk").c_str(), 1);
  CHECK(cloud_sdk_application_default_credentials_path() ==
        box.root() + "/sdk/application_default_credentials.json");
  auto c = load_default_credentials();
  REQUIRE(c.ok());
  CHECK((*c)->refresh_token() == std::string("alabalaportocala"));
  ::unsetenv("CLOUDSDK_CONFIG");
  CHECK(cloud_sdk_application_default_credentials_path() ==
        box.root() + "/.config/gcloud/application_default_credentials.json");
}

TEST_CASE("other credential types are refused by name", "[adc]") {
  AdcSandbox box;
  std::string path = box.write("sa.json", R"({"type": "service_account", "client_email": "x@y"})");
  auto c = load_credentials_from_file(path);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
  CHECK(c.status().message() ==
        "The file " + path +
            " holds credentials of type service_account, which gauth does not support. "
            "Supported types: authorized_user. For user credentials, run `gcloud auth "
            "application-default login`.");
  std::string odd = box.write("odd.json", R"({"type": "martian"})");
  CHECK(load_credentials_from_file(odd).status().message() ==
        "The file " + odd +
            " does not have a valid type. Type is martian, expected one of: authorized_user.");
  std::string none = box.write("none.json", R"({"client_id": "x"})");
  CHECK_THAT(load_credentials_from_file(none).status().message(), Catch::Contains("Type is missing"));
}

TEST_CASE("broken files give clear errors", "[adc]") {
  AdcSandbox box;
  std::string bad = box.write("bad.json", "{not json");
  auto c = load_credentials_from_file(bad);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::StartsWith("File " + bad + " is not a valid json file ("));
  std::string list = box.write("list.json", "[1, 2]");
  CHECK_THAT(load_credentials_from_file(list).status().message(), Catch::Contains("it is not a JSON object"));
  std::string missing_field =
      box.write("missing.json", R"({"type": "authorized_user", "client_id": "1", "client_secret": "s"})");
  CHECK(load_credentials_from_file(missing_field).status().message() ==
        "Failed to load authorized user credentials from " + missing_field +
            ": Authorized user info was not in the expected format, missing fields refresh_token.");
  CHECK(load_credentials_from_file(box.root()).status().message() ==
        box.root() + " is a directory, not a credentials file");
}

TEST_CASE("the quota project: argument, then GOOGLE_CLOUD_QUOTA_PROJECT, then the file", "[adc]") {
  AdcSandbox box;
  std::string path = box.write(
      "q.json",
      R"({"client_id": "1", "client_secret": "s", "refresh_token": "r", "type": "authorized_user", "quota_project_id": "from-file"})");
  CHECK((*load_credentials_from_file(path))->quota_project_id() == std::string("from-file"));
  ::setenv("GOOGLE_CLOUD_QUOTA_PROJECT", "from-env", 1);
  CHECK((*load_credentials_from_file(path))->quota_project_id() == std::string("from-env"));
  DefaultCredentialsOptions options;
  options.quota_project_id = "from-argument";
  CHECK((*load_credentials_from_file(path, std::move(options)))->quota_project_id() ==
        std::string("from-argument"));
  DefaultCredentialsOptions empty;  // as in Python, an empty argument counts as unset
  empty.quota_project_id = "";
  CHECK((*load_credentials_from_file(path, std::move(empty)))->quota_project_id() == std::string("from-env"));
}

TEST_CASE("Cloud SDK credentials without a quota project log Python's warning", "[adc]") {
  AdcSandbox box;
  std::string sdk = box.write(
      "sdk.json",
      std::string(R"({"client_id": ")") + kCloudSdkClientId +
          R"(", "client_secret": "secret", "refresh_token": "alabalaportocala", "type": "authorized_user"})");
  REQUIRE(load_credentials_from_file(sdk).ok());
  REQUIRE(box.log.size() == 1);
  CHECK_THAT(box.log[0],
             Catch::StartsWith("Your application has authenticated using end user credentials from Google "
                               "Cloud SDK without a quota project."));
  ::setenv("GOOGLE_CLOUD_QUOTA_PROJECT", "billing", 1);
  REQUIRE(load_credentials_from_file(sdk).ok());
  CHECK(box.log.size() == 1);
  ::unsetenv("GOOGLE_CLOUD_QUOTA_PROJECT");
  std::string other = box.write("other.json", kUserInfo);
  REQUIRE(load_credentials_from_file(other).ok());
  CHECK(box.log.size() == 1);
}
