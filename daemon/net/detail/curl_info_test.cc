#include "daemon/net/detail/curl_info.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

namespace vigil::net::detail {
namespace {

TEST(ComputePhasesTest, SplitsCumulativeTimesIntoPhases) {
  CurlTimes t{.namelookup = 1000,
              .connect = 3000,
              .appconnect = 7000,
              .pretransfer = 7500,
              .starttransfer = 9500,
              .total = 12500};
  HttpPhases p = ComputePhases(t);
  EXPECT_DOUBLE_EQ(p.resolve, 0.001);
  EXPECT_DOUBLE_EQ(p.connect, 0.002);
  EXPECT_DOUBLE_EQ(p.tls, 0.004);
  EXPECT_DOUBLE_EQ(p.processing, 0.002);
  EXPECT_DOUBLE_EQ(p.transfer, 0.003);
}

TEST(ComputePhasesTest, PlainHttpHasNoTlsPhase) {
  CurlTimes t{.namelookup = 10,
              .connect = 110,
              .appconnect = 0,
              .pretransfer = 120,
              .starttransfer = 1120,
              .total = 1620};
  HttpPhases p = ComputePhases(t);
  EXPECT_DOUBLE_EQ(p.tls, 0);
  EXPECT_DOUBLE_EQ(p.connect, 0.0001);
  EXPECT_DOUBLE_EQ(p.processing, 0.001);
  EXPECT_DOUBLE_EQ(p.transfer, 0.0005);
}

TEST(ComputePhasesTest, FailedConnectLeavesLaterPhasesZero) {
  CurlTimes t{.namelookup = 50,
              .connect = 0,
              .appconnect = 0,
              .pretransfer = 0,
              .starttransfer = 0,
              .total = 2000};
  HttpPhases p = ComputePhases(t);
  EXPECT_DOUBLE_EQ(p.resolve, 0.00005);
  EXPECT_DOUBLE_EQ(p.connect, 0);
  EXPECT_DOUBLE_EQ(p.processing, 0);
  EXPECT_DOUBLE_EQ(p.transfer, 0);
}

TEST(ParseCertExpireDateTest, ReadsOpenSslFormat) {
  EXPECT_EQ(ParseCertExpireDate("Jan  2 03:04:05 2030 GMT"), 1893553445);
  EXPECT_EQ(ParseCertExpireDate("Dec 31 23:59:59 2049 GMT"), 2524607999);
  EXPECT_EQ(ParseCertExpireDate(" Feb 29 00:00:00 2028 GMT\r\n"), 1835395200);
}

TEST(ParseCertExpireDateTest, RejectsOtherText) {
  EXPECT_EQ(ParseCertExpireDate(""), std::nullopt);
  EXPECT_EQ(ParseCertExpireDate("2030-01-02T03:04:05Z"), std::nullopt);
  EXPECT_EQ(ParseCertExpireDate("Foo  2 03:04:05 2030 GMT"), std::nullopt);
  EXPECT_EQ(ParseCertExpireDate("Jan  2 03:04:05 2030 UTC"), std::nullopt);
  EXPECT_EQ(ParseCertExpireDate("Jan 32 03:04:05 2030 GMT"), std::nullopt);
  EXPECT_EQ(ParseCertExpireDate("Jan  2 24:04:05 2030 GMT"), std::nullopt);
}

TEST(TlsVersionLabelTest, MatchesBlackboxNames) {
  EXPECT_EQ(TlsVersionLabel("TLSv1.3"), "TLS 1.3");
  EXPECT_EQ(TlsVersionLabel("TLSv1.2"), "TLS 1.2");
  EXPECT_EQ(TlsVersionLabel("TLSv1"), "TLS 1.0");
  EXPECT_EQ(TlsVersionLabel("SSLv3"), "SSL 3.0");
  EXPECT_EQ(TlsVersionLabel("unknown"), "unknown");
}

TEST(ClassifyCurlCodeTest, MapsCodesToFailureClasses) {
  EXPECT_EQ(ClassifyCurlCode(CURLE_OK, false), TransferError::kNone);
  EXPECT_EQ(ClassifyCurlCode(CURLE_OPERATION_TIMEDOUT, false), TransferError::kTimeout);
  EXPECT_EQ(ClassifyCurlCode(CURLE_COULDNT_RESOLVE_HOST, false), TransferError::kDns);
  EXPECT_EQ(ClassifyCurlCode(CURLE_COULDNT_CONNECT, false), TransferError::kConnect);
  EXPECT_EQ(ClassifyCurlCode(CURLE_PEER_FAILED_VERIFICATION, false), TransferError::kTls);
  EXPECT_EQ(ClassifyCurlCode(CURLE_SSL_CONNECT_ERROR, false), TransferError::kTls);
  EXPECT_EQ(ClassifyCurlCode(CURLE_WRITE_ERROR, true), TransferError::kBodyTooLarge);
  EXPECT_EQ(ClassifyCurlCode(CURLE_WRITE_ERROR, false), TransferError::kOther);
  EXPECT_EQ(ClassifyCurlCode(CURLE_TOO_MANY_REDIRECTS, false), TransferError::kTooManyRedirects);
  EXPECT_EQ(ClassifyCurlCode(CURLE_RECV_ERROR, false), TransferError::kOther);
  EXPECT_EQ(ClassifyCurlCode(CURLE_WEIRD_SERVER_REPLY, false), TransferError::kOther);
}

TEST(HttpVersionNameTest, NamesCurlVersions) {
  EXPECT_EQ(HttpVersionName(CURL_HTTP_VERSION_1_0), "HTTP/1.0");
  EXPECT_EQ(HttpVersionName(CURL_HTTP_VERSION_1_1), "HTTP/1.1");
  EXPECT_EQ(HttpVersionName(CURL_HTTP_VERSION_2_0), "HTTP/2.0");
  EXPECT_EQ(HttpVersionName(CURL_HTTP_VERSION_3), "HTTP/3.0");
  EXPECT_EQ(HttpVersionName(0), "");
}

TEST(ParseHeaderLineTest, LowerCasesNameAndTrimsValue) {
  EXPECT_EQ(ParseHeaderLine("Content-Type:  text/plain \r\n"),
            (HttpHeader{"content-type", "text/plain"}));
  EXPECT_EQ(ParseHeaderLine("X-Empty:\r\n"), (HttpHeader{"x-empty", ""}));
  EXPECT_EQ(ParseHeaderLine("HTTP/1.1 200 OK\r\n"), std::nullopt);
  EXPECT_EQ(ParseHeaderLine("\r\n"), std::nullopt);
  EXPECT_EQ(ParseHeaderLine(": no name\r\n"), std::nullopt);
  EXPECT_EQ(ParseHeaderLine("bad name: x\r\n"), std::nullopt);
}

}  // namespace
}  // namespace vigil::net::detail
