// SignInDialog: prefilled from the saved session, refuses what cannot work.
#include "widgets/signindialog.h"

#include <QDialogButtonBox>
#include <QLineEdit>
#include <QPushButton>
#include <QTest>
#include <gtest/gtest.h>

using parley::desktop::LaunchOptions;
using parley::desktop::SignInDialog;

namespace {
QLineEdit* field(SignInDialog& dialog, int index)
{
    return dialog.findChildren<QLineEdit*>().at(index);
}
} // namespace

TEST(SignInDialogTest, PrefilledFromTheSavedSessionAndValidated)
{
    LaunchOptions saved;
    saved.server = QUrl(QStringLiteral("ws://10.1.2.3:8080/v1/ws"));
    saved.rooms = { QStringLiteral("dev"), QStringLiteral("ops") };
    SignInDialog dialog(saved);
    auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    QLineEdit* server = field(dialog, 0);
    QLineEdit* user = field(dialog, 1);
    EXPECT_EQ(server->text(), QStringLiteral("ws://10.1.2.3:8080/v1/ws"));
    EXPECT_FALSE(ok->isEnabled()) << "no user name yet";

    QTest::keyClicks(user, QStringLiteral("alice"));
    EXPECT_TRUE(ok->isEnabled());
    server->setText(QStringLiteral("chat.example:9000"));
    EXPECT_TRUE(ok->isEnabled());
    const LaunchOptions options = dialog.options();
    EXPECT_EQ(options.server, QUrl(QStringLiteral("ws://chat.example:9000/v1/ws")));
    EXPECT_EQ(options.user, QStringLiteral("alice"));
    EXPECT_EQ(options.rooms, (QStringList { QStringLiteral("dev"), QStringLiteral("ops") }));

    server->setText(QStringLiteral("ftp://nope"));
    EXPECT_FALSE(ok->isEnabled());
}
