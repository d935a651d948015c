#include "commands.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/default_credentials.hpp>
#include <gauth/oauth2/credentials.hpp>
#include <gauth/oauth2/user_access_token_credentials.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

namespace gauth::tool {

namespace {

constexpr auto kDefaultTimeout = std::chrono::seconds(30);

/// The credentials the command line asks for, and their oauth2 view (for
/// to-json) when they are user credentials.
struct Loaded {
  std::shared_ptr<const gauth::Credentials> credentials;
  std::shared_ptr<const oauth2::Credentials> user;
};

StatusOr<Loaded> load(const CommandLine& cl) {
  std::chrono::milliseconds timeout = cl.timeout.value_or(kDefaultTimeout);
  if (cl.gcloud) {
    if (cl.token_uri)
      return Status(StatusCode::kInvalidArgument, "--token-uri applies to user credentials, not --gcloud");
    if (cl.scopes)
      return Status(StatusCode::kInvalidArgument, "--scopes applies to user credentials, not --gcloud");
    oauth2::UserAccessTokenOptions options;
    options.timeout = timeout;
    return Loaded{oauth2::UserAccessTokenCredentials::create(cl.account, cl.quota_project, options), nullptr};
  }
  DefaultCredentialsOptions options;
  options.quota_project_id = cl.quota_project;
  options.scopes = cl.scopes;
  options.options.refresh_timeout(timeout);
  auto user = cl.credentials ? load_credentials_from_file(*cl.credentials, std::move(options))
                             : load_default_credentials(std::move(options));
  if (!user.ok()) return user.status();
  std::shared_ptr<const oauth2::Credentials> creds = *user;
  if (cl.token_uri) creds = creds->with_token_uri(*cl.token_uri);
  return Loaded{creds, creds};
}

/// Runs the driver's loop until `start` has called back.
template <typename Result, typename Start>
Result run_to_completion(CurlDriver& driver, Start start) {
  std::optional<Result> result;
  start([&](Result r) {
    result.emplace(std::move(r));
    driver.stop();
  });
  driver.run();
  return std::move(*result);
}

/// The output went out: a full disk or a closed pipe (SIGPIPE is ignored) is
/// a failure, not success.
int finish_output() {
  std::cout.flush();
  if (std::cout) return 0;
  print_error("cannot write the output");
  return 1;
}

/// --ca-bundle names a file the tool can read (a file error, exit 2; libcurl
/// would only say later that the TLS handshake failed).
Status check_ca_bundle(const std::string& path) {
  auto unreadable = [&](int error) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot read the --ca-bundle file \"" + path + "\": " + std::strerror(error));
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return unreadable(errno);
  if (S_ISDIR(st.st_mode)) return unreadable(EISDIR);
  if (::access(path.c_str(), R_OK) != 0) return unreadable(errno);
  return Status();
}

}  // namespace

int exit_status_of(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound: return 2;
    default: return 1;
  }
}

void print_error(const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';  // one line, whatever the message holds
  }
  std::cerr << "gauth: error: " << line << std::endl;
}

int run_credentials_command(const CommandLine& cl) {
  CurlDriverOptions driver_options;
  if (cl.ca_bundle) {
    if (Status readable = check_ca_bundle(*cl.ca_bundle); !readable.ok()) {
      print_error(readable.message());
      return exit_status_of(readable);
    }
    driver_options.ca_bundle = *cl.ca_bundle;
  }
  driver_options.default_timeout = cl.timeout.value_or(kDefaultTimeout);
  auto driver = CurlDriver::create(driver_options);
  if (!driver.ok()) {
    print_error(driver.status().message());
    return 1;
  }
  auto loaded = load(cl);
  if (!loaded.ok()) {
    print_error(loaded.status().message());
    return exit_status_of(loaded.status());
  }
  WaitOptions wait;
  wait.timeout =
      cl.timeout.value_or(kDefaultTimeout) + std::chrono::seconds(1);  // the refresh's own deadline first

  // to-json refreshes on request. The print commands refresh a stale token
  // first: before_request would apply it and refresh in the background, which
  // exiting cancels. (A missing or expired token, before_request refreshes.)
  bool refresh_first =
      *cl.command == Command::kToJson ? cl.refresh : loaded->credentials->token_state() == TokenState::kStale;
  if (refresh_first) {
    Status refreshed = run_to_completion<Status>(
        **driver, [&](auto done) { loaded->credentials->refresh(**driver, done, wait); });
    if (!refreshed.ok()) {
      print_error(refreshed.message());
      return exit_status_of(refreshed);
    }
  }
  if (*cl.command == Command::kToJson) {
    std::cout << loaded->user->to_json(cl.strip) << "\n";
    return finish_output();
  }

  auto headers = run_to_completion<StatusOr<Headers>>(**driver, [&](auto done) {
    loaded->credentials->before_request(**driver, "GET", "https://www.googleapis.com/", {}, done, wait);
  });
  if (!headers.ok()) {
    print_error(headers.status().message());
    return exit_status_of(headers.status());
  }
  if (*cl.command == Command::kPrintAccessToken) {
    const std::string authorization = headers->value_or_empty("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    std::cout << authorization.substr(authorization.rfind(kBearer, 0) == 0 ? kBearer.size() : 0) << "\n";
  } else {
    for (const auto& [name, value] : *headers) std::cout << name << ": " << value << "\n";
  }
  return finish_output();
}

}  // namespace gauth::tool
