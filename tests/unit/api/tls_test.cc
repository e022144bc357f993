// The API's TLS identity: first-start generation (files, modes, names) and what a certificate
// install refuses, with xapi's error codes.
#include "api/tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/ssl.hpp>
#include <filesystem>

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
