// SignInDialog: prefilled from the saved session, refuses what cannot work.
#include "widgets/signindialog.h"

#include <QDialogButtonBox>
#include <QLabel>
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

TEST(SignInDialogTest, EveryServerAddressFormIsAcceptedAndAMistakeIsNamed)
{
    LaunchOptions initial;
    initial.user = QStringLiteral("alice");
    SignInDialog dialog(initial);
    auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    QLineEdit* server = field(dialog, 0);
    const auto labelText = [&dialog] {
        QStringList texts;
        for (const QLabel* label : dialog.findChildren<QLabel*>()) {
            texts.append(label->text());
        }
        return texts.join(QLatin1Char('\n'));
    };
    const struct {
        const char* typed;
        const char* url; // empty: refused
        const char* problem; // shown below the fields when refused
    } cases[] = {
        { "127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws", "" },
        { "ws://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws", "" },
        { "http://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws", "" },
        { "https://chat.example", "wss://chat.example/v1/ws", "" },
        { "chat.example:0", "", "port must be a number from 1 to 65535" },
        { "ftp://chat.example", "", "'ftp://' is not a Parley server scheme" },
    };
    for (const auto& c : cases) {
        server->clear();
        QTest::keyClicks(server, QString::fromUtf8(c.typed));
        const bool accepted = *c.url != 0;
        EXPECT_EQ(ok->isEnabled(), accepted) << c.typed;
        if (accepted) {
            EXPECT_EQ(dialog.options().server.toString().toStdString(), c.url) << c.typed;
        } else {
            EXPECT_TRUE(labelText().contains(QString::fromUtf8(c.problem)))
                << c.typed << ": " << labelText().toStdString();
        }
    }
}
