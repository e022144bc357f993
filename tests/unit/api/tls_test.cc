// The API's TLS identity: first-start generation (files, modes, names) and what a certificate
// install refuses, with xapi's error codes.
#include "api/tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <filesystem>
#include <sstream>

#include "api/audit.h"

namespace hvnet::api {
namespace {

struct TlsDir : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("hvnet-tls-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TlsFiles files{(dir / "k").string(), (dir / "c").string()};
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(TlsDir, FirstStartMakesAPrivateKeyAndACertificateThatServe) {
  ASSERT_TRUE(ensure_self_signed(files, {"host1", "localhost"}, {"127.0.0.1", "::1"}));
  struct stat st {};
  ASSERT_EQ(::stat(files.key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string cert = read_file(files.cert), key = read_file(files.key);
  EXPECT_TRUE(server_context(cert, key));
  const std::string fp = certificate_fingerprint(cert);
  EXPECT_EQ(fp.size(), 32u * 3 - 1);
  // A second start keeps the identity.
  ASSERT_TRUE(ensure_self_signed(files, {"host1"}, {}));
  EXPECT_EQ(certificate_fingerprint(read_file(files.cert)), fp);
}

TEST_F(TlsDir, InstallRefusalsUseXapisErrorCodes) {
  TlsFiles other{(dir / "k2").string(), (dir / "c2").string()};
  ASSERT_TRUE(ensure_self_signed(files, {"a"}, {}));
  ASSERT_TRUE(ensure_self_signed(other, {"b"}, {}));
  const std::string cert = read_file(files.cert), key = read_file(files.key);
  EXPECT_EQ(server_context(cert, read_file(other.key)).error().code,
            "SERVER_CERTIFICATE_KEY_MISMATCH");
  EXPECT_EQ(server_context("not a certificate", key).error().code, "SERVER_CERTIFICATE_INVALID");
  EXPECT_EQ(server_context(cert, "not a key").error().code, "SERVER_CERTIFICATE_KEY_INVALID");
  EXPECT_EQ(certificate_fingerprint("garbage"), "");
}

}  // namespace
}  // namespace hvnet::api

namespace hvnet::api {
namespace {

TEST_F(TlsDir, AuditLogRotatesBySizeAndReadsBackOldestFirst) {
  std::filesystem::create_directories(dir);
  AuditLog log((dir / "audit.log").string(), /*max_bytes=*/200, /*keep=*/2);
  for (int i = 0; i < 12; ++i)
    log.record(
        {{"time", "20261203T12:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "Z"},
         {"call", "network.create"},
         {"n", i}});
  EXPECT_TRUE(std::filesystem::exists(dir / "audit.log.1"));
  EXPECT_TRUE(std::filesystem::exists(dir / "audit.log.2"));
  EXPECT_FALSE(std::filesystem::exists(dir / "audit.log.3"));  // older ones are gone
  std::vector<int> seen;
  std::istringstream all(log.since(""));
  for (std::string line; std::getline(all, line);) seen.push_back(nlohmann::json::parse(line)["n"]);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 11);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  std::istringstream recent(log.since("20261203T12:00:10Z"));
  int n = 0;
  for (std::string line; std::getline(recent, line);) ++n;
  EXPECT_EQ(n, 2);
}

TEST(Audit, WritesAndLoginsAreRecordedReadsAreNotSecretsNever) {
  EXPECT_TRUE(audited("network.create"));
  EXPECT_TRUE(audited("Async.VLAN.create"));
  EXPECT_TRUE(audited("session.login_with_password"));
  EXPECT_TRUE(audited("network.set_name_label"));
  EXPECT_FALSE(audited("network.get_all_records"));
  EXPECT_FALSE(audited("event.from"));
  EXPECT_FALSE(audited("host.query_data_source"));
  const auto args = audit_args("host.install_server_certificate",
                               {"OpaqueRef:h", "CERT", "-----BEGIN PRIVATE KEY-----", ""});
  EXPECT_EQ(args[2], "(secret)");
  EXPECT_EQ(args[1], "CERT");
  EXPECT_EQ(audit_args("session.login_with_password", {"root", "pw"})[1], "(secret)");
  EXPECT_LE(audit_args("network.create", {std::string(5000, 'x')})[0].get<std::string>().size(),
            1030u);
}

}  // namespace
}  // namespace hvnet::api
