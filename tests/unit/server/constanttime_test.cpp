// constantTimeEquals: the secret compare of auth-file tokens and HTTP session secrets.
#include "common/constanttime.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(ConstantTimeEqualsTest, EqualOnlyWhenBytesAndLengthsAgree)
{
    EXPECT_TRUE(constantTimeEquals("", ""));
    EXPECT_TRUE(
        constantTimeEquals("00112233445566778899aabbccddeeff", "00112233445566778899aabbccddeeff"));
    EXPECT_FALSE(constantTimeEquals("00112233445566778899aabbccddeeff",
        "00112233445566778899aabbccddeef0")); // last byte
    EXPECT_FALSE(constantTimeEquals("a0112233", "00112233")); // first byte
    EXPECT_FALSE(constantTimeEquals("abc", "abcd")); // a prefix is not equal
    EXPECT_FALSE(constantTimeEquals("abcd", "abc"));
    EXPECT_FALSE(constantTimeEquals("", "a"));
    // Embedded NULs count like any byte.
    EXPECT_FALSE(constantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
    EXPECT_TRUE(constantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}

} // namespace
} // namespace parley::server
