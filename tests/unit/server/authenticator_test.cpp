// Authenticator: dev mode, token files, constant-time comparison.
#include "auth/authenticator.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(AuthenticatorTest, DevModeAcceptsAnyValidUser)
{
    const Authenticator auth = Authenticator::devMode();
    EXPECT_TRUE(auth.check("alice", ""));
    EXPECT_TRUE(auth.check("bob", "whatever"));
    EXPECT_FALSE(auth.check("", ""));
    EXPECT_FALSE(auth.check("bad name", ""));
}

TEST(AuthenticatorTest, TokenFile)
{
    QString error;
    const auto auth = Authenticator::fromText(
        "# users\nalice s3cret\n  bob\tother-token  \n\ncarol c\n", &error);
    ASSERT_TRUE(auth) << error.toStdString();
    EXPECT_EQ(auth->userCount(), 3u);
    EXPECT_TRUE(auth->check("alice", "s3cret"));
    EXPECT_TRUE(auth->check("bob", "other-token"));
    EXPECT_FALSE(auth->check("alice", "s3cre"));
    EXPECT_FALSE(auth->check("alice", "s3cret!"));
    EXPECT_FALSE(auth->check("alice", ""));
    EXPECT_FALSE(auth->check("alice", "other-token"));
    EXPECT_FALSE(auth->check("mallory", "s3cret"));
    EXPECT_FALSE(auth->check("mallory", ""));
}

TEST(AuthenticatorTest, BadTokenFileLines)
{
    for (const char* text : { "alice\n", "bad user token\n", "alice a b\n", "al!ce tok\n" }) {
        QString error;
        EXPECT_FALSE(Authenticator::fromText(text, &error)) << text;
        EXPECT_TRUE(error.contains("line 1")) << error.toStdString();
    }
}

TEST(AuthenticatorTest, MissingFile)
{
    QString error;
    EXPECT_FALSE(Authenticator::fromFile("/nonexistent/parley-tokens", &error));
    EXPECT_FALSE(error.isEmpty());
}

TEST(AuthenticatorTest, ConstantTimeEquals)
{
    EXPECT_TRUE(Authenticator::constantTimeEquals("", ""));
    EXPECT_TRUE(Authenticator::constantTimeEquals("abc", "abc"));
    EXPECT_FALSE(Authenticator::constantTimeEquals("abc", "abd"));
    EXPECT_FALSE(Authenticator::constantTimeEquals("abc", "ab"));
    EXPECT_FALSE(Authenticator::constantTimeEquals("", "a"));
    EXPECT_FALSE(Authenticator::constantTimeEquals(std::string_view("a\0", 2), "a"));
}

} // namespace
} // namespace parley::server
