// The syslog shipper (audit/syslog.hpp) against an in-process receiver on 127.0.0.1: RFC 5424
// messages framed by octet counting (RFC 6587), reconnects, the queue bound, TLS (RFC 5425) with a
// certificate made at test time, and stop() within its grace.
#include "audit/syslog.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace giosg {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr milliseconds kStopMargin{500};  // stop() may take this much beyond its grace

bool wait_until(const std::function<bool()>& done, milliseconds timeout = 5s) {
    const auto until = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() >= until) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
std::uint16_t unused_port() {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

/// A syslog receiver: accepts connections one after another, splits RFC 6587 octet-counted
/// frames strictly and records every message.
class Receiver {
public:
    struct Options {
        std::uint16_t port = 0;
        asio::ssl::context* tls = nullptr;
        std::size_t close_after = 0;  // closes each connection after this many messages (0: never)
        bool silent = false;          // accepts, then neither reads nor answers (a hung handshake)
    };

    explicit Receiver(Options options) : options_(options), acceptor_(io_) {
        const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Receiver() {
        io_.stop();
        thread_.join();
    }
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    std::vector<std::string> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    bool wait_for_messages(std::size_t count, milliseconds timeout = 5s) {
        return wait_until([&] { return messages().size() >= count; }, timeout);
    }
    std::size_t connections() { return connections_.load(); }
    std::size_t handshake_failures() { return handshake_failures_.load(); }
    std::size_t framing_errors() { return framing_errors_.load(); }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
            if (ec) co_return;
            ++connections_;
            asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        if (options_.silent) {
            asio::steady_timer forever(io_, Clock::time_point::max());
            co_await forever.async_wait(use_nothrow);
            co_return;
        }
        if (options_.tls == nullptr) {
            co_await read_frames(socket);
            co_return;
        }
        asio::ssl::stream<tcp::socket> stream(std::move(socket), *options_.tls);
        if (auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow); ec) {
            ++handshake_failures_;
            co_return;
        }
        if (co_await read_frames(stream) == asio::error::eof)
            co_await stream.async_shutdown(use_nothrow);  // answer the sender's close_notify
    }

    /// Reads frames until the connection ends (returns why) or close_after is reached.
    template <typename Stream>
    asio::awaitable<boost::system::error_code> read_frames(Stream& stream) {
        std::string buffer;
        std::array<char, 4096> chunk{};
        std::size_t in_connection = 0;
        for (;;) {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), use_nothrow);
            if (ec) co_return ec;
            buffer.append(chunk.data(), n);
            for (;;) {
                // MSG-LEN = NONZERO-DIGIT *DIGIT, then SP, then exactly MSG-LEN octets.
                const auto space = buffer.find(' ');
                const std::string_view digits(buffer.data(), std::min(space, buffer.size()));
                const bool digits_ok = digits.find_first_not_of("0123456789") == std::string_view::npos &&
                                       digits.size() <= 9 && (digits.empty() || digits.front() != '0');
                if (!digits_ok || space == 0) {
                    ++framing_errors_;
                    co_return boost::system::error_code{};
                }
                if (space == std::string::npos) break;
                const auto length = std::stoul(std::string(digits));
                if (buffer.size() < space + 1 + length) break;
                {
                    std::lock_guard lock(mutex_);
                    messages_.push_back(buffer.substr(space + 1, length));
                }
                buffer.erase(0, space + 1 + length);
                if (options_.close_after != 0 && ++in_connection == options_.close_after)
                    co_return boost::system::error_code{};
            }
        }
    }

    Options options_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> messages_;
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> handshake_failures_{0};
    std::atomic<std::size_t> framing_errors_{0};
};

/// A self-signed certificate (EC P-256) and its key, made now, as PEM.
struct TestCertificate {
    std::string cert_pem;
    std::string key_pem;
};

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data without its C cast
    return std::string(data, static_cast<std::size_t>(size));
}

TestCertificate make_self_signed(const char* common_name, const char* subject_alt_names) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                            &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    if (!key || !cert) throw std::runtime_error("cannot make a test key");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::pair<int, const char*> extensions[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,digitalSignature,keyCertSign"},
        {NID_subject_alt_name, subject_alt_names},
    };
    for (const auto& [nid, value] : extensions) {
        X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        if (extension == nullptr) throw std::runtime_error("bad test certificate extension");
        X509_add_ext(cert.get(), extension, -1);
        X509_EXTENSION_free(extension);
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("cannot sign the test certificate");

    TestCertificate result;
    std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_X509(cert_bio.get(), cert.get());
    result.cert_pem = bio_text(cert_bio.get());
    std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    result.key_pem = bio_text(key_bio.get());
    return result;
}

std::unique_ptr<asio::ssl::context> server_tls(const TestCertificate& certificate) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain(asio::buffer(certificate.cert_pem));
    ctx->use_private_key(asio::buffer(certificate.key_pem), asio::ssl::context::pem);
    return ctx;
}

/// The certificate as a CA file for the shipper; removed with the object.
class TempPem {
public:
    explicit TempPem(const std::string& pem)
        : path_(std::filesystem::path(::testing::TempDir()) /
                ("syslog_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++) + ".pem")) {
        std::ofstream(path_) << pem;
    }
    ~TempPem() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    TempPem(const TempPem&) = delete;
    TempPem& operator=(const TempPem&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

SyslogOptions options_for(std::uint16_t port, std::string host = "127.0.0.1") {
    SyslogOptions options;
    options.host = std::move(host);
    options.port = port;
    options.connect_timeout = 2s;
    options.write_timeout = 2s;
    options.max_backoff = 200ms;  // reconnects come quickly in tests
    return options;
}

std::vector<std::string> numbered_lines(int first, int last) {
    std::vector<std::string> lines;
    for (int i = first; i <= last; ++i) lines.push_back("{\"n\":" + std::to_string(i) + "}");
    return lines;
}

/// The MSG part of each RFC 5424 message (everything after the structured data "-").
std::vector<std::string> bodies(const std::vector<std::string>& messages) {
    std::vector<std::string> result;
    for (const auto& message : messages) {
        const auto at = message.find(" audit - ");
        result.push_back(at == std::string::npos ? message : message.substr(at + 9));
    }
    return result;
}

template <typename F>
milliseconds time_of(F&& f) {
    const auto started = Clock::now();
    f();
    return std::chrono::duration_cast<milliseconds>(Clock::now() - started);
}

TEST(SyslogShipper, DeliversLinesInOrderAsOctetCountedRfc5424Messages) {
    Receiver receiver({});
    SyslogShipper shipper(options_for(receiver.port()));
    shipper.start();
    const std::vector<std::string> lines = {
        R"({"a":1})",
        "{\"path\":\"/api/v5/\xC3\xA4\xC3\xB6 \xE2\x82\xAC\"}\n",  // UTF-8 as is; the '\n' is stripped
        R"({"note":"spaces and \"quotes\"","n":3})",
    };
    for (const auto& line : lines) shipper.enqueue(line);

    ASSERT_TRUE(receiver.wait_for_messages(lines.size()));
    const auto messages = receiver.messages();
    ASSERT_EQ(messages.size(), lines.size());
    EXPECT_EQ(receiver.framing_errors(), 0u);

    std::array<char, 256> host{};
    ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
    // <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP MSG
    const std::regex header(R"(^<110>1 \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (\S+) giosg-gateway (\d+) audit - )");
    for (std::size_t i = 0; i < lines.size(); ++i) {
        SCOPED_TRACE(i);
        std::smatch match;
        ASSERT_TRUE(std::regex_search(messages[i], match, header)) << messages[i];
        EXPECT_EQ(match[1].str(), host.data());
        EXPECT_EQ(match[2].str(), std::to_string(::getpid()));
        std::string expected = lines[i];
        if (expected.back() == '\n') expected.pop_back();
        EXPECT_EQ(match.suffix().str(), expected);
    }
    EXPECT_TRUE(wait_until([&] { return shipper.sent() == lines.size(); }));
    EXPECT_TRUE(shipper.connected());
    EXPECT_EQ(shipper.dropped(), 0u);
    EXPECT_EQ(shipper.reconnects(), 0u);
}

TEST(SyslogShipper, DeliversABacklogLargerThanOneBatchInOrder) {
    Receiver receiver({});
    SyslogShipper shipper(options_for(receiver.port()));
    const auto lines = numbered_lines(1, 2000);
    for (const auto& line : lines) shipper.enqueue(line);  // queued before start: one backlog
    shipper.start();
    ASSERT_TRUE(receiver.wait_for_messages(lines.size()));
    EXPECT_EQ(bodies(receiver.messages()), lines);
    EXPECT_EQ(receiver.framing_errors(), 0u);
    EXPECT_EQ(receiver.connections(), 1u);
}

TEST(SyslogShipper, QueuesWhileReceiverIsDownAndDeliversOnceItListens) {
    const auto port = unused_port();
    SyslogShipper shipper(options_for(port));
    shipper.start();
    const auto lines = numbered_lines(1, 3);
    for (const auto& line : lines) shipper.enqueue(line);
    std::this_thread::sleep_for(300ms);  // a few refused attempts
    EXPECT_FALSE(shipper.connected());
    EXPECT_EQ(shipper.sent(), 0u);

    Receiver receiver({.port = port});
    ASSERT_TRUE(receiver.wait_for_messages(lines.size()));
    EXPECT_EQ(bodies(receiver.messages()), lines);
    EXPECT_TRUE(wait_until([&] { return shipper.connected(); }));
    EXPECT_EQ(shipper.reconnects(), 1u);
    EXPECT_EQ(shipper.dropped(), 0u);
}

TEST(SyslogShipper, ReconnectsAfterReceiverClosesConnection) {
    Receiver receiver({.close_after = 5});
    SyslogShipper shipper(options_for(receiver.port()));
    shipper.start();
    const auto first = numbered_lines(1, 5);
    for (const auto& line : first) shipper.enqueue(line);
    ASSERT_TRUE(receiver.wait_for_messages(5));
    // The receiver closed after the fifth: the shipper notices without writing and reconnects.
    ASSERT_TRUE(wait_until([&] { return shipper.reconnects() >= 1 && shipper.connected(); }));

    const auto later = numbered_lines(6, 10);
    for (const auto& line : later) shipper.enqueue(line);
    ASSERT_TRUE(receiver.wait_for_messages(10));
    EXPECT_EQ(bodies(receiver.messages()), numbered_lines(1, 10));
    EXPECT_GE(receiver.connections(), 2u);
    EXPECT_EQ(receiver.framing_errors(), 0u);
}

TEST(SyslogShipper, FullQueueDropsOldestLinesFirst) {
    const auto port = unused_port();
    auto options = options_for(port);
    options.queue_limit = 5;
    SyslogShipper shipper(options);
    shipper.start();
    const auto lines = numbered_lines(1, 8);  // queue_limit + 3
    for (const auto& line : lines) shipper.enqueue(line);
    EXPECT_EQ(shipper.dropped(), 3u);

    Receiver receiver({.port = port});
    ASSERT_TRUE(receiver.wait_for_messages(5));
    EXPECT_EQ(bodies(receiver.messages()), numbered_lines(4, 8));
    EXPECT_TRUE(wait_until([&] { return shipper.sent() == 5; }));
    EXPECT_EQ(shipper.dropped(), 3u);
}

void expect_tls_delivery(const char* host) {
    const auto certificate = make_self_signed("localhost", "DNS:localhost,IP:127.0.0.1");
    const TempPem ca(certificate.cert_pem);
    const auto tls = server_tls(certificate);
    Receiver receiver({.tls = tls.get()});
    auto options = options_for(receiver.port(), host);
    options.tls = true;
    options.ca_file = ca.path();
    SyslogShipper shipper(options);
    shipper.start();
    shipper.enqueue(R"({"tls":true})");
    ASSERT_TRUE(receiver.wait_for_messages(1));
    EXPECT_EQ(bodies(receiver.messages()), std::vector<std::string>{R"({"tls":true})"});
    EXPECT_EQ(receiver.handshake_failures(), 0u);
    EXPECT_TRUE(wait_until([&] { return shipper.sent() == 1; }));
    // The receiver answers close_notify, so a clean close is quick.
    EXPECT_LT(time_of([&] { shipper.stop(1s); }), 1s + kStopMargin);
    EXPECT_EQ(shipper.dropped(), 0u);
}

TEST(SyslogShipper, TlsDeliversWhenCertificateAndHostNameVerify) { expect_tls_delivery("localhost"); }

TEST(SyslogShipper, TlsVerifiesAnAddressAgainstAnIpSubjectAltName) { expect_tls_delivery("127.0.0.1"); }

/// The shipper sees a certificate it must refuse: it never delivers, never hangs, stops in time.
void expect_tls_refused(const TestCertificate& certificate, const std::optional<std::filesystem::path>& ca_file) {
    const auto tls = server_tls(certificate);
    Receiver receiver({.tls = tls.get()});
    auto options = options_for(receiver.port(), "localhost");
    options.tls = true;
    options.ca_file = ca_file;
    SyslogShipper shipper(options);
    shipper.start();
    shipper.enqueue(R"({"n":1})");
    shipper.enqueue(R"({"n":2})");
    ASSERT_TRUE(wait_until([&] { return receiver.handshake_failures() >= 2; }));  // refused, and tried again
    EXPECT_TRUE(receiver.messages().empty());
    EXPECT_FALSE(shipper.connected());
    EXPECT_EQ(shipper.sent(), 0u);
    EXPECT_LT(time_of([&] { shipper.stop(300ms); }), 300ms + kStopMargin);
    EXPECT_EQ(shipper.dropped(), 2u);
    EXPECT_TRUE(receiver.messages().empty());
}

TEST(SyslogShipper, TlsNeverDeliversToAnUntrustedCertificate) {
    // No ca_file: the system trust store, which does not know a certificate made a moment ago.
    expect_tls_refused(make_self_signed("localhost", "DNS:localhost,IP:127.0.0.1"), std::nullopt);
}

TEST(SyslogShipper, TlsNeverDeliversWhenHostNameDoesNotMatch) {
    const auto certificate = make_self_signed("other.invalid", "DNS:other.invalid");
    const TempPem ca(certificate.cert_pem);  // trusted, but for another name
    expect_tls_refused(certificate, ca.path());
}

TEST(SyslogShipper, StopReturnsWithinGraceWhenReceiverIsDown) {
    auto options = options_for(unused_port());
    options.connect_timeout = 10s;
    SyslogShipper shipper(options);
    shipper.start();
    for (const auto& line : numbered_lines(1, 3)) shipper.enqueue(line);
    std::this_thread::sleep_for(50ms);
    EXPECT_LT(time_of([&] { shipper.stop(300ms); }), 300ms + kStopMargin);
    EXPECT_EQ(shipper.dropped(), 3u);
    EXPECT_EQ(shipper.sent(), 0u);
    shipper.enqueue(R"({"after":"stop"})");  // counted, not queued
    EXPECT_EQ(shipper.dropped(), 4u);
    shipper.stop();  // idempotent
}

TEST(SyslogShipper, StopCutsShortAHandshakeStartedBeforeIt) {
    const auto certificate = make_self_signed("localhost", "DNS:localhost");
    const TempPem ca(certificate.cert_pem);
    Receiver receiver({.silent = true});  // accepts TCP, never answers the ClientHello
    auto options = options_for(receiver.port(), "localhost");
    options.tls = true;
    options.ca_file = ca.path();
    options.connect_timeout = 10s;
    SyslogShipper shipper(options);
    shipper.start();
    shipper.enqueue(R"({"n":1})");
    ASSERT_TRUE(wait_until([&] { return receiver.connections() >= 1; }));
    EXPECT_LT(time_of([&] { shipper.stop(300ms); }), 300ms + kStopMargin);
    EXPECT_EQ(shipper.dropped(), 1u);
}

TEST(SyslogShipper, RejectsUnusableOptions) {
    auto no_port = options_for(0);
    EXPECT_THROW(SyslogShipper{no_port}, std::runtime_error);
    auto bad_facility = options_for(514);
    bad_facility.facility = 24;
    EXPECT_THROW(SyslogShipper{bad_facility}, std::runtime_error);
    auto missing_ca = options_for(514);
    missing_ca.tls = true;
    missing_ca.ca_file = std::filesystem::path(::testing::TempDir()) / "no-such-ca.pem";
    EXPECT_THROW(SyslogShipper{missing_ca}, std::runtime_error);
}

}  // namespace
}  // namespace giosg
