#include <gauth/oauth2/credentials.hpp>

#include "../ascii.hpp"
#include "../durations.hpp"
#include "../json.hpp"
#include "../text_file.hpp"
#include "../time_format.hpp"
#include "../url.hpp"
#include "config.hpp"
#include "refresh_grant.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace gauth::oauth2 {

using detail::BuilderState;
using detail::RefreshGrantSource;
using detail::UserCredentialsConfig;
using gauth::detail::TokenCache;
using gauth::detail::TokenStateValues;

struct Credentials::Private {};

namespace {

std::shared_ptr<TokenCache> make_cache(const std::shared_ptr<const RefreshGrantSource>& source,
                                       TokenStateValues initial) {
  const UserCredentialsConfig& config = source->config();
  return std::make_shared<TokenCache>(source, *config.clock, std::move(initial),
                                      config.extras().token_listener);
}

Status invalid(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }

/// A string-or-null member of the authorized user info.
StatusOr<std::optional<std::string>> info_string(const rapidjson::Value& info, const char* name) {
  auto it = info.FindMember(name);
  if (it == info.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsString())
    return invalid(std::string("Authorized user info field ") + name + " is not a string.");
  return std::optional<std::string>(std::string(it->value.GetString(), it->value.GetStringLength()));
}

std::vector<std::string> split_on_spaces(std::string_view s) {
  // Python's str.split(" "): single spaces, empty items kept.
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t space = s.find(' ', start);
    out.emplace_back(
        s.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start));
    if (space == std::string_view::npos) return out;
    start = space + 1;
  }
}

}  // namespace

// ---- Builder --------------------------------------------------------------------

Credentials::Builder::Builder() : state_(std::make_unique<BuilderState>()) {}
Credentials::Builder::~Builder() = default;
Credentials::Builder::Builder(Builder&&) noexcept = default;
Credentials::Builder& Credentials::Builder::operator=(Builder&&) noexcept = default;

#define GAUTH_BUILDER_SETTER(name, type, target)                 \
  Credentials::Builder& Credentials::Builder::name(type value) { \
    target = std::move(value);                                   \
    return *this;                                                \
  }
GAUTH_BUILDER_SETTER(token, std::optional<std::string>, state_->initial.token)
GAUTH_BUILDER_SETTER(expiry, std::optional<Clock::WallTime>, state_->initial.expiry)
GAUTH_BUILDER_SETTER(refresh_token, std::optional<std::string>, state_->initial.refresh_token)
GAUTH_BUILDER_SETTER(id_token, std::optional<std::string>, state_->initial.id_token)
GAUTH_BUILDER_SETTER(granted_scopes, std::optional<std::vector<std::string>>, state_->initial.granted_scopes)
GAUTH_BUILDER_SETTER(rapt_token, std::optional<std::string>, state_->initial.rapt_token)
GAUTH_BUILDER_SETTER(quota_project_id, std::optional<std::string>, state_->quota_project_id)
GAUTH_BUILDER_SETTER(token_uri, std::optional<std::string>, state_->config.token_uri)
GAUTH_BUILDER_SETTER(client_id, std::optional<std::string>, state_->config.client_id)
GAUTH_BUILDER_SETTER(client_secret, std::optional<std::string>, state_->config.client_secret)
GAUTH_BUILDER_SETTER(scopes, std::optional<std::vector<std::string>>, state_->config.scopes)
GAUTH_BUILDER_SETTER(default_scopes, std::optional<std::vector<std::string>>, state_->config.default_scopes)
GAUTH_BUILDER_SETTER(refresh_handler, RefreshHandler, state_->config.extras_for_writing().refresh_handler)
GAUTH_BUILDER_SETTER(trust_boundary, std::optional<std::string>,
                     state_->config.extras_for_writing().trust_boundary)
GAUTH_BUILDER_SETTER(account, std::string, state_->config.extras_for_writing().account)
GAUTH_BUILDER_SETTER(token_listener, TokenListener, state_->config.extras_for_writing().token_listener)
GAUTH_BUILDER_SETTER(credential_source, std::optional<std::string>,
                     state_->config.extras_for_writing().credential_source)
#undef GAUTH_BUILDER_SETTER

Credentials::Builder& Credentials::Builder::refresh_timeout(std::chrono::milliseconds timeout) {
  state_->config.refresh_timeout = gauth::detail::bounded_wait(timeout, std::chrono::milliseconds(1));
  return *this;
}

Credentials::Builder& Credentials::Builder::universe_domain(std::string universe_domain) {
  // Python: `universe_domain or "googleapis.com"`.
  state_->config.universe_domain =
      universe_domain.empty() ? kDefaultUniverseDomain : std::move(universe_domain);
  return *this;
}

Credentials::Builder& Credentials::Builder::clock(const Clock& clock) {
  state_->config.clock = &clock;
  return *this;
}

std::shared_ptr<const Credentials> Credentials::Builder::build() const {
  auto source = std::make_shared<const RefreshGrantSource>(state_->config);
  auto cache = make_cache(source, state_->initial);
  return std::make_shared<const Credentials>(Private{}, std::move(source), std::move(cache),
                                             state_->quota_project_id);
}

// ---- loading ---------------------------------------------------------------------

namespace {

/// Python's from_authorized_user_info, on parsed JSON: fills `b`.
Status load_authorized_user_info(const rapidjson::Value& info, std::optional<std::vector<std::string>> scopes,
                                 BuilderState& b) {
  UserCredentialsConfig& c = b.config;
  if (!info.IsObject()) return invalid("Authorized user info is not a JSON object.");

  // Python checks presence only (null passes); the order of the message is fixed.
  std::vector<std::string> missing;
  for (const char* key : {"refresh_token", "client_id", "client_secret"}) {
    if (!info.HasMember(key)) missing.emplace_back(key);
  }
  if (!missing.empty()) {
    return invalid("Authorized user info was not in the expected format, missing fields " +
                   gauth::detail::join(missing, ", ") + ".");
  }

  const char* keys[] = {"token",      "refresh_token",   "client_id", "client_secret", "quota_project_id",
                        "rapt_token", "universe_domain", "account",   "expiry"};
  std::optional<std::string> values[std::size(keys)];
  for (std::size_t i = 0; i < std::size(keys); ++i) {
    auto value = info_string(info, keys[i]);
    if (!value.ok()) return value.status();
    values[i] = std::move(*value);
  }
  auto& [token, refresh_token, client_id, client_secret, quota_project_id, rapt_token, universe_domain,
         account, expiry_text] = values;

  b.initial = TokenStateValues{};
  b.initial.token = std::move(token);
  b.initial.refresh_token = std::move(refresh_token);
  b.initial.rapt_token = std::move(rapt_token);
  if (expiry_text && !expiry_text->empty()) {
    auto expiry = gauth::detail::parse_expiry(*expiry_text);
    if (!expiry.ok()) return invalid("Authorized user info has an " + expiry.status().message());
    b.initial.expiry = *expiry;
  } else {
    // Python: no expiry means "expired now", so the first use refreshes.
    b.initial.expiry = c.clock->wall_now() - kRefreshThreshold;
  }
  if (scopes) {
    c.scopes = std::move(scopes);
  } else if (auto it = info.FindMember("scopes"); it != info.MemberEnd() && !it->value.IsNull()) {
    if (it->value.IsString()) {
      c.scopes = split_on_spaces({it->value.GetString(), it->value.GetStringLength()});
    } else if (it->value.IsArray()) {
      std::vector<std::string> list;
      for (const auto& item : it->value.GetArray()) {
        if (!item.IsString())
          return invalid("Authorized user info field scopes has an item that is not a string.");
        list.emplace_back(item.GetString(), item.GetStringLength());
      }
      c.scopes = std::move(list);
    } else {
      return invalid("Authorized user info field scopes is neither a string nor a list.");
    }
  } else {
    c.scopes.reset();
  }
  c.token_uri = kGoogleTokenUri;  // Python ignores the file's token_uri
  c.client_id = std::move(client_id);
  c.client_secret = std::move(client_secret);
  b.quota_project_id = std::move(quota_project_id);
  c.universe_domain =
      universe_domain && !universe_domain->empty() ? *universe_domain : kDefaultUniverseDomain;
  auto& extras = c.extras_for_writing();
  extras.account = account.value_or("");
  if (auto it = info.FindMember("trust_boundary"); it != info.MemberEnd() && !it->value.IsNull()) {
    extras.trust_boundary = gauth::detail::python_json_dumps(it->value);
  } else {
    extras.trust_boundary.reset();
  }
  return Status();
}

}  // namespace

StatusOr<std::shared_ptr<const Credentials>> Credentials::from_authorized_user_info(
    std::string_view json, std::optional<std::vector<std::string>> scopes, Builder options) {
  auto parsed = gauth::detail::parse_json(json, "the authorized user info");
  if (!parsed.ok()) return parsed.status();
  Status loaded = load_authorized_user_info(*parsed, std::move(scopes), *options.state_);
  if (!loaded.ok()) return loaded;
  return options.build();
}

StatusOr<std::shared_ptr<const Credentials>> Credentials::from_authorized_user_file(
    const std::string& path, std::optional<std::vector<std::string>> scopes, Builder options) {
  auto text = gauth::detail::read_text_file(path);
  if (!text.ok()) return text.status();
  auto parsed = gauth::detail::parse_json(*text, "File " + path);
  if (!parsed.ok()) return parsed.status();
  Status loaded = load_authorized_user_info(*parsed, std::move(scopes), *options.state_);
  if (!loaded.ok()) {
    return Status(loaded.code(),
                  "Failed to load authorized user credentials from " + path + ": " + loaded.message());
  }
  return options.build();
}

// ---- the object --------------------------------------------------------------------

Credentials::Credentials(const Private&, std::shared_ptr<const RefreshGrantSource> source,
                         std::shared_ptr<gauth::detail::TokenCache> cache,
                         std::optional<std::string> quota_project_id)
    : gauth::Credentials(std::move(cache), std::move(quota_project_id)),
      source_(std::move(source)),
      config_(source_->config()) {}

Credentials::~Credentials() = default;

const std::optional<std::string>& Credentials::token_uri() const noexcept { return config_.token_uri; }
const std::optional<std::string>& Credentials::client_id() const noexcept { return config_.client_id; }
const std::optional<std::string>& Credentials::client_secret() const noexcept {
  return config_.client_secret;
}
const std::optional<std::vector<std::string>>& Credentials::scopes() const noexcept { return config_.scopes; }
const std::optional<std::vector<std::string>>& Credentials::default_scopes() const noexcept {
  return config_.default_scopes;
}
const std::string& Credentials::universe_domain() const noexcept { return config_.universe_domain; }
const std::string& Credentials::account() const noexcept { return config_.extras().account; }
const std::optional<std::string>& Credentials::trust_boundary() const noexcept {
  return config_.extras().trust_boundary;
}
const RefreshHandler& Credentials::refresh_handler() const noexcept {
  return config_.extras().refresh_handler;
}

std::optional<std::string> Credentials::refresh_token() const { return cache()->values().refresh_token; }
std::optional<std::string> Credentials::id_token() const { return cache()->values().id_token; }
std::optional<std::string> Credentials::rapt_token() const { return cache()->values().rapt_token; }
std::optional<std::vector<std::string>> Credentials::granted_scopes() const {
  return cache()->values().granted_scopes;
}

bool Credentials::has_scopes(const std::vector<std::string>& wanted) const {
  const std::vector<std::string>& have = config_.requested_scopes();
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& s) {
    return std::find(have.begin(), have.end(), s) != have.end();
  });
}

std::string Credentials::to_json(const std::vector<std::string>& strip) const {
  auto keep = [&](std::string_view key) { return std::find(strip.begin(), strip.end(), key) == strip.end(); };
  TokenStateValues state = cache()->values();
  gauth::detail::JsonObjectWriter out;
  auto string = [&](std::string_view key, const std::optional<std::string>& value) {
    if (value && keep(key)) out.string(key, *value);
  };
  string("token", state.token);
  string("refresh_token", state.refresh_token);
  string("token_uri", config_.token_uri);
  string("client_id", config_.client_id);
  string("client_secret", config_.client_secret);
  if (config_.scopes && keep("scopes")) out.string_list("scopes", *config_.scopes);
  string("rapt_token", state.rapt_token);
  string("universe_domain", config_.universe_domain);
  string("account", config_.extras().account);
  if (state.expiry) string("expiry", gauth::detail::format_expiry(*state.expiry));
  string("quota_project_id", quota_project_id());
  string("type", std::string("authorized_user"));
  return std::move(out).finish();
}

std::optional<CredentialInfo> Credentials::get_cred_info() const {
  const auto& extras = config_.extras();
  if (!extras.credential_source) return std::nullopt;
  CredentialInfo info{*extras.credential_source, "user credentials", std::nullopt};
  if (!extras.account.empty()) info.principal = extras.account;
  return info;
}

std::shared_ptr<const Credentials> Credentials::with_quota_project(
    std::optional<std::string> quota_project_id) const {
  return std::make_shared<const Credentials>(Private{}, source_, cache(), std::move(quota_project_id));
}

std::shared_ptr<const gauth::Credentials> Credentials::with_quota_project_impl(
    std::optional<std::string> quota_project_id) const {
  return with_quota_project(std::move(quota_project_id));
}

std::shared_ptr<const Credentials> Credentials::copy_with(
    const std::function<void(UserCredentialsConfig&)>& edit) const {
  UserCredentialsConfig config = config_;
  edit(config);
  auto source = std::make_shared<const RefreshGrantSource>(std::move(config));
  // A new cache, starting from the current token, expiry and refresh token.
  auto cache_copy = make_cache(source, cache()->values());
  return std::make_shared<const Credentials>(Private{}, std::move(source), std::move(cache_copy),
                                             quota_project_id());
}

std::shared_ptr<const Credentials> Credentials::with_token_uri(std::optional<std::string> token_uri) const {
  return copy_with([&](UserCredentialsConfig& c) { c.token_uri = std::move(token_uri); });
}

std::shared_ptr<const Credentials> Credentials::with_universe_domain(std::string universe_domain) const {
  return copy_with([&](UserCredentialsConfig& c) { c.universe_domain = std::move(universe_domain); });
}

std::shared_ptr<const Credentials> Credentials::with_account(std::string account) const {
  return copy_with([&](UserCredentialsConfig& c) { c.extras_for_writing().account = std::move(account); });
}

std::string to_string(const Credentials& c) {
  auto set = [](bool present) { return present ? "set" : "unset"; };
  TokenState state = c.token_state();
  auto expiry = c.expiry();
  std::ostringstream out;
  out << "oauth2::Credentials{client_id=" << c.client_id().value_or("<none>");
  if (c.scopes()) {
    out << ", scopes=[" << gauth::detail::join(*c.scopes(), " ") << "]";
  }
  if (c.quota_project_id()) out << ", quota_project_id=" << *c.quota_project_id();
  out << ", token_uri="
      << (c.token_uri() ? gauth::detail::printable_url(*c.token_uri()) : std::string("<none>"))
      << ", universe_domain=" << c.universe_domain();
  if (!c.account().empty()) out << ", account=" << c.account();
  out << ", token=" << set(c.token().has_value()) << ", refresh_token=" << set(c.refresh_token().has_value())
      << ", client_secret=" << set(c.client_secret().has_value()) << ", state=" << gauth::to_string(state);
  if (expiry) out << ", expiry=" << gauth::detail::format_expiry(*expiry);
  out << "}";
  return out.str();
}

std::ostream& operator<<(std::ostream& os, const Credentials& credentials) {
  return os << to_string(credentials);
}

}  // namespace gauth::oauth2
