#include "webhook_sink.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace chatd::test {

namespace {

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxBody = 16 << 20;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Appends what the peer sent next; false on EOF, an error, or stop. Polls in
// short slices so that stop() is seen within 100 ms.
bool read_more(int fd, std::string& buf, const std::atomic<bool>& stopping) {
  char tmp[8192];
  while (!stopping.load()) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) continue;
    ssize_t got = ::recv(fd, tmp, sizeof tmp, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(got));
    return true;
  }
  return false;
}

bool fill(int fd, std::string& buf, std::size_t n, const std::atomic<bool>& stopping) {
  while (buf.size() < n) {
    if (!read_more(fd, buf, stopping)) return false;
  }
  return true;
}

// The end of the line starting at pos (the index of its "\r\n"), reading as needed.
bool line_end(int fd, std::string& buf, std::size_t pos, std::size_t& eol,
              const std::atomic<bool>& stopping) {
  while ((eol = buf.find("\r\n", pos)) == std::string::npos) {
    if (buf.size() - pos > kMaxHead || !read_more(fd, buf, stopping)) return false;
  }
  return true;
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// A chunked body starting at pos; on success pos is past its end.
bool read_chunked(int fd, std::string& buf, std::size_t& pos, std::string& body,
                  const std::atomic<bool>& stopping) {
  for (;;) {
    std::size_t eol = 0;
    if (!line_end(fd, buf, pos, eol, stopping)) return false;
    std::string size_text = buf.substr(pos, eol - pos);
    size_text = trim(size_text.substr(0, size_text.find(';')));
    std::size_t size = 0;
    try {
      size = std::stoull(size_text, nullptr, 16);
    } catch (...) {
      return false;
    }
    pos = eol + 2;
    if (size == 0) {
      // Trailers, up to an empty line.
      for (;;) {
        if (!line_end(fd, buf, pos, eol, stopping)) return false;
        bool empty = eol == pos;
        pos = eol + 2;
        if (empty) return true;
      }
    }
    if (body.size() + size > kMaxBody) return false;
    if (!fill(fd, buf, pos + size + 2, stopping)) return false;
    body.append(buf, pos, size);
    pos += size + 2;
  }
}

// One whole request off the connection (what follows it stays in buf).
bool read_request(int fd, std::string& buf, SinkRequest& r, std::string& version,
                  const std::atomic<bool>& stopping) {
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHead || !read_more(fd, buf, stopping)) return false;
  }
  std::string_view head(buf.data(), head_end);
  auto first_eol = head.find("\r\n");
  std::string_view request_line = head.substr(0, first_eol);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  r.method = std::string(request_line.substr(0, sp1));
  r.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  version = std::string(request_line.substr(sp2 + 1));

  std::size_t pos = first_eol == std::string_view::npos ? head.size() : first_eol + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    auto line = head.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      r.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    pos = eol + 2;
  }

  std::size_t body_start = head_end + 4;
  if (lower(r.header("expect")) == "100-continue") send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
    if (!read_chunked(fd, buf, body_start, r.body, stopping)) return false;
    buf.erase(0, body_start);
    return true;
  }
  std::size_t length = 0;
  if (auto cl = r.header("content-length"); !cl.empty()) {
    try {
      length = std::stoull(cl);
    } catch (...) {
      return false;
    }
  }
  if (length > kMaxBody || !fill(fd, buf, body_start + length, stopping)) return false;
  r.body = buf.substr(body_start, length);
  buf.erase(0, body_start + length);
  return true;
}

}  // namespace

std::string SinkRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

WebhookSink::~WebhookSink() { stop(); }

std::uint16_t WebhookSink::start() {
  if (listen_fd_ >= 0) return port_;
  // CLOEXEC: the chatd children the tests fork must not inherit the sink's sockets.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("webhook sink: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("webhook sink: cannot listen: " + why);
  }
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  stopping_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
  return port_;
}

void WebhookSink::stop() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::unique_ptr<Connection>> conns;
  {
    std::lock_guard lock(conns_mu_);
    conns.swap(conns_);
  }
  // Each connection thread sees stopping_ within 100 ms, hung ones too, and
  // closes its socket.
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

std::string WebhookSink::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/push"; }

std::vector<SinkRequest> WebhookSink::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool WebhookSink::wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

bool WebhookSink::wait_until(const std::function<bool(const std::vector<SinkRequest>&)>& pred,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
}

void WebhookSink::fail_next(int n) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
}

void WebhookSink::fail_all(bool on) {
  std::lock_guard lock(mu_);
  fail_all_ = on;
}

void WebhookSink::hang(bool on) {
  std::lock_guard lock(mu_);
  hang_ = on;
}

int WebhookSink::record(SinkRequest r) {
  std::lock_guard lock(mu_);
  int status = 200;
  if (hang_) {
    status = 0;
  } else if (fail_next_ > 0) {
    --fail_next_;
    status = 500;
  } else if (fail_all_) {
    status = 500;
  }
  r.status = status;
  requests_.push_back(std::move(r));
  cv_.notify_all();
  return status;
}

void WebhookSink::accept_loop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    std::lock_guard lock(conns_mu_);
    // Join the connections that have finished, so that threads do not pile up.
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->done.load()) {
        (*it)->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    if (n <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    auto c = std::make_unique<Connection>();
    Connection* raw = c.get();
    raw->fd = fd;
    raw->thread = std::thread([this, raw] {
      serve(raw->fd);
      ::close(raw->fd);
      raw->done = true;
    });
    conns_.push_back(std::move(c));
  }
}

void WebhookSink::serve(int fd) {
  std::string buf;
  while (!stopping_.load()) {
    SinkRequest r;
    std::string version;
    if (!read_request(fd, buf, r, version, stopping_)) return;
    auto connection = lower(r.header("connection"));
    bool keep_alive = version == "HTTP/1.0" ? connection.find("keep-alive") != std::string::npos
                                            : connection.find("close") == std::string::npos;
    r.json = Json::parse(r.body, nullptr, false);
    r.at = std::chrono::steady_clock::now();
    int status = record(std::move(r));
    if (status == 0) {
      // Hang: never answer; hold the connection until the client gives up or stop().
      std::string ignored;
      while (read_more(fd, ignored, stopping_)) ignored.clear();
      return;
    }
    std::string body = status == 200 ? "{}" : R"({"error":"the sink was told to fail"})";
    std::string response = "HTTP/1.1 " + std::to_string(status) +
                           (status == 200 ? " OK" : " Internal Server Error") +
                           "\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) +
                           (keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close") +
                           "\r\n\r\n" + body;
    if (!send_all(fd, response) || !keep_alive) return;
  }
}

}  // namespace chatd::test
