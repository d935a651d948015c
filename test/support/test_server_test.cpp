// Tests of the test kit itself: TestServer seen from real blocking clients
// (libcurl, and raw sockets where curl would hide the bytes on the wire).
#include "test_server.hpp"

#define CATCH_CONFIG_ENABLE_CHRONO_STRINGMAKER
#include <curl/curl.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using gauth::test::RecordedRequest;
using gauth::test::Reply;
using gauth::test::TestServer;
using Fault = Reply::Fault;
using Clock = std::chrono::steady_clock;
using Tls = TestServer::Tls;

// curl_global_init is not thread-safe, so it runs once, before any test.
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_ALL); }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};
const CurlGlobal curl_global;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

/// Polls `condition` until it holds or `timeout` passes; for state the server
/// changes without a notification (open connections).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto give_up = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Response {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string head;  // every header line received, as received
  std::string body;
  long new_connections = 0;
  std::chrono::milliseconds elapsed{};
};

struct Request {
  std::string method = "GET";
  std::string body;
  bool chunked = false;  // send the body with Transfer-Encoding: chunked
  std::vector<std::string> headers;
  std::chrono::milliseconds timeout = 10s;
  std::string ca_file;                       // for https
  std::size_t max_body = std::string::npos;  // abort the transfer once this much arrived
  long expect_100_timeout_ms = 0;            // 0: curl's default
};

/// A blocking client on one curl easy handle; successive fetches reuse its
/// connection when the server keeps it alive.
class Client {
 public:
  Client() : easy_(curl_easy_init()) { REQUIRE(easy_); }

  Response fetch(const std::string& url, const Request& request = {}) {
    CURL* easy = easy_.get();
    curl_easy_reset(easy);  // keeps the connection cache
    Transfer transfer{request, {}, 0};
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(request.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Client::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Client::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
    if (!request.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, request.ca_file.c_str());
    if (request.expect_100_timeout_ms > 0) {
      curl_easy_setopt(easy, CURLOPT_EXPECT_100_TIMEOUT_MS, request.expect_100_timeout_ms);
    }

    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
    for (const std::string& header : request.headers)
      headers.reset(curl_slist_append(headers.release(), header.c_str()));
    if (request.chunked) headers.reset(curl_slist_append(headers.release(), "Transfer-Encoding: chunked"));
    if (headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());

    if (request.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (request.method == "POST" && request.chunked) {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Client::on_upload);
      curl_easy_setopt(easy, CURLOPT_READDATA, &transfer);
    } else if (request.method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, long(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.c_str());
    } else if (request.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    const auto start = Clock::now();
    transfer.response.code = curl_easy_perform(easy);
    transfer.response.elapsed = since(start);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &transfer.response.status);
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &transfer.response.new_connections);
    return transfer.response;
  }

 private:
  struct Transfer {
    const Request& request;
    Response response;
    std::size_t uploaded;
  };

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    transfer.response.body.append(data, size * count);
    if (transfer.response.body.size() >= transfer.request.max_body) return 0;  // abort
    return size * count;
  }
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<Transfer*>(user)->response.head.append(data, size * count);
    return size * count;
  }
  // Small pieces, so the chunked body really has several chunks.
  static std::size_t on_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    std::size_t n =
        std::min({size * count, std::size_t(7), transfer.request.body.size() - transfer.uploaded});
    std::memcpy(buffer, transfer.request.body.data() + transfer.uploaded, n);
    transfer.uploaded += n;
    return n;
  }

  struct EasyCleanup {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
  };
  std::unique_ptr<CURL, EasyCleanup> easy_;
};

/// A blocking TCP client that shows the exact bytes (and the way the
/// connection ends), which curl would interpret away.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(std::uint16_t(port));
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size()));
  }

  /// Reads until `done(received)` holds, the server closes, or `timeout`.
  std::string receive(const std::function<bool(const std::string&)>& done,
                      std::chrono::milliseconds timeout = 5s) {
    std::string received;
    const auto give_up = Clock::now() + timeout;
    while (!done(received) && !ended_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now()).count();
      if (left <= 0) break;
      pollfd readable{fd_, POLLIN, 0};
      if (::poll(&readable, 1, int(left)) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        received.append(buffer, std::size_t(n));
      } else {
        ended_ = true;
        reset_ = n < 0 && errno == ECONNRESET;
      }
    }
    return received;
  }
  std::string receive_until_closed(std::chrono::milliseconds timeout = 5s) {
    return receive([](const std::string&) { return false; }, timeout);
  }

  /// Whether the server has closed (FIN or RST) the connection; valid after receive().
  bool ended() const noexcept { return ended_; }
  bool was_reset() const noexcept { return reset_; }

 private:
  int fd_;
  bool ended_ = false;
  bool reset_ = false;
};

Request for_server(Tls tls) {
  Request request;
  if (tls == Tls::kOn) request.ca_file = TestServer::ca_bundle_path();
  return request;
}

const char* describe(Tls tls) { return tls == Tls::kOn ? "HTTPS" : "HTTP"; }

}  // namespace

// --- scripted replies -------------------------------------------------------

TEST_CASE("a scripted reply reaches the client with its status, headers and body", "[test_server]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  Reply reply = Reply::json(201, R"({"ok":true})");
  reply.headers.emplace_back("X-Scripted", "yes");
  server.enqueue(reply);

  Response response = Client().fetch(server.url("/hello"), for_server(tls));

  CHECK(response.code == CURLE_OK);
  CHECK(response.status == 201);
  CHECK(response.body == R"({"ok":true})");
  CHECK(contains(response.head, "Content-Type: application/json\r\n"));
  CHECK(contains(response.head, "X-Scripted: yes\r\n"));
  CHECK(contains(response.head, "Content-Length: 11\r\n"));
  CHECK(server.url("/x").rfind(tls == Tls::kOn ? "https://localhost:" : "http://127.0.0.1:", 0) == 0);
}

TEST_CASE("the reply shorthands set what they promise", "[test_server]") {
  CHECK(Reply::text(404, "no").headers.at(0) ==
        std::make_pair(std::string("Content-Type"), std::string("text/plain")));
  Reply redirect = Reply::redirect(302, "/elsewhere");
  CHECK(redirect.status == 302);
  CHECK(redirect.headers.at(0) == std::make_pair(std::string("Location"), std::string("/elsewhere")));

  TestServer server;
  server.enqueue(Reply::huge(3 * 1024 * 1024));
  Response response = Client().fetch(server.url());
  CHECK(response.code == CURLE_OK);
  CHECK(response.status == 200);
  CHECK(response.body == std::string(3 * 1024 * 1024, 'x'));
}

TEST_CASE("a client trusting another CA refuses the server, which keeps serving", "[test_server]") {
  TestServer server(Tls::kOn);
  Request untrusting;
  untrusting.ca_file = TestServer::other_ca_bundle_path();
  CHECK(Client().fetch(server.url(), untrusting).code == CURLE_PEER_FAILED_VERIFICATION);

  CHECK(Client().fetch(server.url(), for_server(Tls::kOn)).code == CURLE_OK);
  CHECK(server.request_count() == 1);
}

TEST_CASE("replies come from the handler, else the queue in order, else the default", "[test_server]") {
  TestServer server;
  Client client;
  server.enqueue(Reply::text(200, "first"));
  server.enqueue(Reply::text(202, "second"));
  server.set_default(Reply::text(404, "default"));
  CHECK(client.fetch(server.url()).body == "first");
  Response second = client.fetch(server.url());
  CHECK(second.status == 202);
  CHECK(second.body == "second");
  CHECK(client.fetch(server.url()).body == "default");
  CHECK(client.fetch(server.url()).status == 404);

  server.enqueue(Reply::text(200, "queued"));
  server.set_handler(
      [](const RecordedRequest& request) { return Reply::text(200, "handled " + request.target); });
  CHECK(client.fetch(server.url("/x")).body == "handled /x");
  server.set_handler(nullptr);
  CHECK(client.fetch(server.url()).body == "queued");
}

TEST_CASE("a handler that throws answers 500 instead of taking the server down", "[test_server]") {
  TestServer server;
  server.set_handler([](const RecordedRequest&) -> Reply { throw std::runtime_error("boom"); });
  Response response = Client().fetch(server.url());
  CHECK(response.status == 500);
  CHECK(contains(response.body, "boom"));
}

TEST_CASE("delay holds the reply back without holding up other connections", "[test_server]") {
  TestServer server;
  server.set_handler([](const RecordedRequest& request) {
    Reply reply = Reply::text(200, request.target);
    if (request.target == "/slow") reply.delay = 300ms;
    return reply;
  });
  Response slow;
  std::thread slow_client([&] { slow = Client().fetch(server.url("/slow")); });
  REQUIRE(server.wait_for_requests(1));
  Response fast = Client().fetch(server.url("/fast"));
  slow_client.join();

  CHECK(fast.body == "/fast");
  CHECK(fast.elapsed < 300ms);
  CHECK(slow.code == CURLE_OK);
  CHECK(slow.body == "/slow");
  CHECK(slow.elapsed >= 300ms);
}

// --- recording ----------------------------------------------------------------

TEST_CASE("every request is recorded with method, target, headers in order and body", "[test_server]") {
  TestServer server;
  Request post;
  post.method = "POST";
  post.body = "grant_type=refresh_token&refresh_token=abc";
  post.headers = {"X-First: 1", "Content-Type: application/x-www-form-urlencoded", "X-Twice: a", "X-Twice: b",
                  "X-Last:   padded  "};
  Client client;
  REQUIRE(client.fetch(server.url("/token?scope=a%20b"), post).code == CURLE_OK);
  REQUIRE(client.fetch(server.url("/second")).code == CURLE_OK);

  REQUIRE(server.request_count() == 2);
  const std::vector<RecordedRequest> requests = server.requests();
  const RecordedRequest& recorded = requests.at(0);
  CHECK(recorded.method == "POST");
  CHECK(recorded.target == "/token?scope=a%20b");
  CHECK(recorded.body == post.body);
  CHECK(recorded.connection_id == 1);
  CHECK(recorded.header("content-type") == "application/x-www-form-urlencoded");
  CHECK(recorded.header("CONTENT-LENGTH") == std::to_string(post.body.size()));
  CHECK(recorded.header("x-last") == "padded");
  CHECK(recorded.header_count("x-twice") == 2);
  CHECK(recorded.header("x-twice") == "a");
  CHECK(recorded.header("x-missing").empty());
  CHECK(recorded.header_count("x-missing") == 0);

  auto position = [&](const std::string& name) {
    auto found = std::find_if(recorded.headers.begin(), recorded.headers.end(),
                              [&](const auto& header) { return header.first == name; });
    return found - recorded.headers.begin();
  };
  CHECK(position("X-First") < position("Content-Type"));
  CHECK(position("Content-Type") < position("X-Twice"));
  CHECK(position("X-Twice") < position("X-Last"));

  CHECK(requests.at(1).method == "GET");
  CHECK(requests.at(1).target == "/second");
  CHECK(requests.at(1).body.empty());
}

TEST_CASE("a chunked request body is recorded decoded", "[test_server]") {
  TestServer server;
  Request post;
  post.method = "POST";
  post.chunked = true;
  post.body = "a body sent in several chunks of seven bytes";
  REQUIRE(Client().fetch(server.url("/upload"), post).code == CURLE_OK);
  REQUIRE(server.request_count() == 1);
  CHECK(server.requests().at(0).header("transfer-encoding") == "chunked");
  CHECK(server.requests().at(0).body == post.body);
}

TEST_CASE("a client expecting 100-continue is not kept waiting", "[test_server]") {
  TestServer server;
  Request post;
  post.method = "POST";
  post.body = std::string(4096, 'b');
  post.headers = {"Expect: 100-continue"};
  post.expect_100_timeout_ms = 5000;  // what a missing "100 Continue" would cost
  Response response = Client().fetch(server.url(), post);
  CHECK(response.code == CURLE_OK);
  CHECK(response.elapsed < 4s);
  CHECK(server.requests().at(0).body == post.body);
}

TEST_CASE("HEAD gets the head with the length but no body", "[test_server]") {
  TestServer server;
  server.set_default(Reply::text(200, "twelve bytes"));
  Client client;
  Request head;
  head.method = "HEAD";
  Response response = client.fetch(server.url(), head);
  CHECK(response.code == CURLE_OK);
  CHECK(contains(response.head, "Content-Length: 12\r\n"));
  // Had the body been sent, it would now be taken for the next response.
  CHECK(client.fetch(server.url()).body == "twelve bytes");
  CHECK(server.connection_count() == 1);
}

// --- connections ------------------------------------------------------------

TEST_CASE("a keep-alive client sends its requests on one connection", "[test_server]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  Client client;
  CHECK(client.fetch(server.url("/1"), for_server(tls)).new_connections == 1);
  CHECK(client.fetch(server.url("/2"), for_server(tls)).new_connections == 0);
  CHECK(server.connection_count() == 1);
  CHECK(server.open_connection_count() == 1);
  CHECK(server.requests().at(0).connection_id == 1);
  CHECK(server.requests().at(1).connection_id == 1);
}

TEST_CASE("close_after answers with Connection: close and closes", "[test_server]") {
  TestServer server;
  Reply closing = Reply::text(200, "bye");
  closing.close_after = true;
  server.enqueue(closing);
  Client client;
  Response first = client.fetch(server.url());
  CHECK(first.body == "bye");
  CHECK(contains(first.head, "Connection: close\r\n"));
  CHECK(client.fetch(server.url()).new_connections == 1);
  CHECK(server.connection_count() == 2);
  CHECK(server.requests().at(1).connection_id == 2);
  CHECK(eventually([&] { return server.open_connection_count() == 1; }));
}

TEST_CASE("pipelined requests are answered in order", "[test_server]") {
  TestServer server;
  server.set_handler([](const RecordedRequest& request) { return Reply::text(200, request.target); });
  RawConnection connection(server.port());
  connection.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /bb HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string received =
      connection.receive([](const std::string& bytes) { return contains(bytes, "\r\n\r\n/bb"); });
  CHECK(contains(received, "Content-Length: 2\r\n\r\n/aHTTP/1.1 200 OK\r\n"));
  CHECK(contains(received, "Content-Length: 3\r\n\r\n/bb"));
  CHECK(server.request_count() == 2);
  CHECK(server.connection_count() == 1);
}

TEST_CASE("a malformed request is answered 400 and the connection closed", "[test_server]") {
  TestServer server;
  RawConnection connection(server.port());
  connection.send("NOT HTTP AT ALL\r\n\r\n");
  std::string received = connection.receive_until_closed();
  CHECK(received.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(connection.ended());
  CHECK(server.request_count() == 0);
}

TEST_CASE("200 concurrent connections are served at the same time", "[test_server]") {
  constexpr int kClients = 200;
  constexpr auto kDelay = 500ms;  // one after the other they would take 100 s
  TestServer server;
  Reply reply = Reply::text(200, "ok");
  reply.delay = kDelay;
  server.set_default(reply);

  struct MultiCleanup {
    void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
  };
  struct EasyCleanup {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
  };
  std::unique_ptr<CURLM, MultiCleanup> multi(curl_multi_init());
  std::vector<std::unique_ptr<CURL, EasyCleanup>> easies;
  std::vector<std::string> bodies(kClients);
  auto append = +[](char* data, std::size_t size, std::size_t count, void* body) {
    static_cast<std::string*>(body)->append(data, size * count);
    return size * count;
  };
  const std::string url = server.url("/concurrent");
  for (int i = 0; i < kClients; ++i) {
    easies.emplace_back(curl_easy_init());
    CURL* easy = easies.back().get();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &bodies[std::size_t(i)]);
    curl_multi_add_handle(multi.get(), easy);
  }

  const auto start = Clock::now();
  int running = kClients;
  while (running > 0) {
    REQUIRE(curl_multi_perform(multi.get(), &running) == CURLM_OK);
    if (running > 0) REQUIRE(curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr) == CURLM_OK);
  }
  const auto elapsed = since(start);

  int succeeded = 0;
  while (CURLMsg* message = curl_multi_info_read(multi.get(), &running)) {
    if (message->msg == CURLMSG_DONE && message->data.result == CURLE_OK) ++succeeded;
  }
  CHECK(succeeded == kClients);
  CHECK(std::all_of(bodies.begin(), bodies.end(), [](const std::string& body) { return body == "ok"; }));
  CHECK(server.connection_count() == std::size_t(kClients));
  CHECK(server.open_connection_count() == std::size_t(kClients));  // all kept alive by curl
  CHECK(elapsed < 20s);
  for (auto& easy : easies) curl_multi_remove_handle(multi.get(), easy.get());
}

TEST_CASE("the destructor returns promptly and releases stalled connections", "[test_server]") {
  auto server = std::make_unique<TestServer>();
  server->set_handler([](const RecordedRequest& request) {
    if (request.target == "/drip") {
      Reply reply = Reply::with_fault(Fault::kSlowDrip);
      reply.drip_interval = 10s;
      return reply;
    }
    if (request.target == "/delay") {
      Reply reply = Reply::text(200, "late");
      reply.delay = 10s;
      return reply;
    }
    return Reply::with_fault(Fault::kStall);
  });
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (const char* target : {"/stall", "/stall", "/stall", "/drip", "/delay"}) {
    clients.push_back(std::make_unique<RawConnection>(server->port()));
    clients.back()->send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  clients.push_back(std::make_unique<RawConnection>(server->port()));  // idle, no request
  REQUIRE(server->wait_for_requests(5));

  const auto start = Clock::now();
  server.reset();
  CHECK(since(start) < 1s);
  for (auto& client : clients) {
    client->receive_until_closed(2s);
    CHECK(client->ended());
  }
}

// --- faults ----------------------------------------------------------------

TEST_CASE("kStall: the client times out while the connection stays open", "[test_server][fault]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  server.enqueue(Reply::with_fault(Fault::kStall));
  Request request = for_server(tls);
  request.timeout = 300ms;
  Response response = Client().fetch(server.url(), request);
  CHECK(response.code == CURLE_OPERATION_TIMEDOUT);
  CHECK(response.elapsed >= 290ms);  // curl's clock rounds its timeout to the millisecond
  CHECK(response.head.empty());
  CHECK(server.request_count() == 1);
  // The client closed on timeout; the server lets go too.
  CHECK(eventually([&] { return server.open_connection_count() == 0; }));
}

TEST_CASE("kStallAfterHeaders: the head arrives, the body never does", "[test_server][fault]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kStallAfterHeaders));
  Request request;
  request.timeout = 300ms;
  Response response = Client().fetch(server.url(), request);
  CHECK(response.code == CURLE_OPERATION_TIMEDOUT);
  CHECK(response.status == 200);
  CHECK(contains(response.head, "Content-Length: 64\r\n"));
  CHECK(response.body.empty());
}

TEST_CASE("kSlowDrip: the response arrives whole, one byte per interval", "[test_server][fault]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  Reply reply = Reply::with_fault(Fault::kSlowDrip);
  reply.body = "dripping";
  reply.drip_interval = 2ms;
  server.enqueue(reply);
  Response response = Client().fetch(server.url(), for_server(tls));
  CHECK(response.code == CURLE_OK);
  CHECK(response.body == "dripping");
  // "HTTP/1.1 200 OK\r\n" "Content-Length: 8\r\n" "\r\n" "dripping": 46 bytes, 45 intervals.
  CHECK(response.elapsed >= 90ms);
}

TEST_CASE("kTruncate: the client gets a partial body", "[test_server][fault]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  server.enqueue(Reply::with_fault(Fault::kTruncate));  // 512 of 1024 bytes
  Response response = Client().fetch(server.url(), for_server(tls));
  CHECK(response.code == CURLE_PARTIAL_FILE);
  CHECK(contains(response.head, "Content-Length: 1024\r\n"));
  CHECK(response.body == std::string(512, 'x'));
}

TEST_CASE("kReset: the client sees the first bytes, then a reset", "[test_server][fault]") {
  TestServer server;
  Reply reply = Reply::with_fault(Fault::kReset);
  reply.body = std::string(1000, 'x');
  // "HTTP/1.1 200 OK\r\n" "Content-Length: 1000\r\n" "\r\n" is 41 bytes; then 100 of the body.
  reply.bytes = 141;
  server.enqueue(reply);

  SECTION("as raw bytes") {
    RawConnection connection(server.port());
    connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string received = connection.receive_until_closed();
    CHECK(received == "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(100, 'x'));
    CHECK(connection.was_reset());
  }
  SECTION("through curl") {
    Response response = Client().fetch(server.url());
    CHECK(response.code == CURLE_RECV_ERROR);
    CHECK(response.body == std::string(100, 'x'));
  }
}

TEST_CASE("kReset over TLS fails the transfer", "[test_server][fault]") {
  TestServer server(Tls::kOn);
  server.enqueue(Reply::with_fault(Fault::kReset));
  Response response = Client().fetch(server.url(), for_server(Tls::kOn));
  CHECK(response.code == CURLE_RECV_ERROR);
}

TEST_CASE("kEndlessBody: the body goes on until the client gives up", "[test_server][fault]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  server.enqueue(Reply::with_fault(Fault::kEndlessBody));
  Request request = for_server(tls);
  request.max_body = 4 * 1024 * 1024;
  Response response = Client().fetch(server.url(), request);
  CHECK(response.code == CURLE_WRITE_ERROR);
  CHECK(response.body.size() >= request.max_body);
  CHECK(contains(response.head, "Transfer-Encoding: chunked\r\n"));
  CHECK(eventually([&] { return server.open_connection_count() == 0; }));
}

TEST_CASE("kEndlessBody waits for a client that stops reading instead of spinning", "[test_server][fault]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kEndlessBody));
  RawConnection connection(server.port());
  connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(connection.receive([](const std::string& bytes) { return bytes.size() > 64 * 1024; }).size() >
        64 * 1024);

  // The socket buffers fill within milliseconds; after that a spinning loop
  // thread would burn a whole core for the rest of the window.
  auto cpu_now = [] {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
  };
  std::this_thread::sleep_for(100ms);
  const auto cpu_before = cpu_now();
  std::this_thread::sleep_for(400ms);
  CHECK(cpu_now() - cpu_before < 100ms);
  CHECK(server.open_connection_count() == 1);
}

TEST_CASE("kCloseWithoutResponse: the client gets nothing", "[test_server][fault]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  server.enqueue(Reply::with_fault(Fault::kCloseWithoutResponse));
  Response response = Client().fetch(server.url(), for_server(tls));
  CHECK(response.code == CURLE_GOT_NOTHING);
  CHECK(server.request_count() == 1);
}

TEST_CASE("kCloseWithoutResponse ends with FIN, not a reset", "[test_server][fault]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kCloseWithoutResponse));
  RawConnection connection(server.port());
  connection.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(connection.receive_until_closed().empty());
  CHECK(connection.ended());
  CHECK_FALSE(connection.was_reset());
}

TEST_CASE("kGarbage: the client rejects a reply that is not HTTP", "[test_server][fault]") {
  const Tls tls = GENERATE(Tls::kOff, Tls::kOn);
  INFO(describe(tls));
  TestServer server(tls);
  server.enqueue(Reply::with_fault(Fault::kGarbage));
  Response response = Client().fetch(server.url(), for_server(tls));
  INFO(curl_easy_strerror(response.code));
  // curl 7.88 takes a first reply without a status line for HTTP/0.9, which it refuses.
  CHECK((response.code == CURLE_WEIRD_SERVER_REPLY || response.code == CURLE_UNSUPPORTED_PROTOCOL));
}

TEST_CASE("kGarbage sends exactly its bytes, then closes", "[test_server][fault]") {
  TestServer server;
  Reply reply = Reply::with_fault(Fault::kGarbage);
  reply.body = std::string(
      "\0\x01"
      "binary\xff",
      9);
  server.enqueue(reply);
  RawConnection connection(server.port());
  connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(connection.receive_until_closed() == reply.body);
  CHECK(connection.ended());
  CHECK_FALSE(connection.was_reset());
}
