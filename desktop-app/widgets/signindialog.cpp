#include "widgets/signindialog.h"

#include "controllers/chatcontroller.h"
#include "widgets/appicon.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QVBoxLayout>
#include <parley/serveraddress.h>

namespace parley::desktop {

SignInDialog::SignInDialog(const LaunchOptions& initial, QWidget* parent)
    : QDialog(parent)
    , m_server(new QLineEdit(this))
    , m_user(new QLineEdit(this))
    , m_token(new QLineEdit(this))
    , m_room(new QLineEdit(this))
    , m_problem(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Sign in to Parley"));
    setWindowIcon(AppIcon::icon());

    auto* title = new QLabel(tr("<b>Welcome to Parley</b><br>Where do you want to chat?"), this);
    auto* form = new QFormLayout;
    form->addRow(tr("&Server:"), m_server);
    form->addRow(tr("&User name:"), m_user);
    form->addRow(tr("&Token:"), m_token);
    form->addRow(tr("&Room:"), m_room);

    m_server->setText(
        (initial.server.isValid() ? initial.server : LaunchOptions::defaultServer()).toString());
    m_server->setPlaceholderText(QStringLiteral("host:8080, ws://host:8080/v1/ws, https://host"));
    m_user->setText(initial.user);
    m_user->setPlaceholderText(tr("letters, digits, . _ -"));
    m_user->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("[A-Za-z0-9._-]{0,64}")), m_user));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("not needed on a development server"));
    m_token->setText(initial.token);
    m_room->setText(initial.rooms.isEmpty() ? QStringLiteral("lobby") : initial.rooms.first());
    m_room->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("#?[A-Za-z0-9._-]{0,64}")), m_room));
    m_otherRooms = initial.rooms.mid(1);
    m_problem->setForegroundRole(QPalette::PlaceholderText);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Sign In"));

    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (QLineEdit* edit : { m_server, m_user, m_room }) {
        connect(edit, &QLineEdit::textChanged, this, &SignInDialog::validate);
    }
    (initial.user.isEmpty() ? m_user : m_room)->setFocus();
    validate();
    resize(420, sizeHint().height());
}

LaunchOptions SignInDialog::options() const
{
    LaunchOptions options;
    options.server = ServerAddress::parse(m_server->text()).url;
    options.user = m_user->text().trimmed();
    options.token = m_token->text();
    QString room = m_room->text().trimmed();
    if (room.startsWith(QLatin1Char('#'))) {
        room.remove(0, 1);
    }
    if (!room.isEmpty()) {
        options.rooms.append(room);
    }
    for (const auto& other : m_otherRooms) {
        if (!options.rooms.contains(other)) {
            options.rooms.append(other);
        }
    }
    return options;
}

void SignInDialog::validate()
{
    const LaunchOptions o = options();
    QString problem;
    if (const ServerAddress server = ServerAddress::parse(m_server->text()); !server.isValid()) {
        // The parser's reason, so that the person sees what to change (the port, the scheme...).
        problem = tr("Server: %1.").arg(server.error);
    } else if (o.user.isEmpty()) {
        problem = tr("Choose a user name.");
    } else if (!o.rooms.isEmpty() && !ChatController::isValidRoomName(o.rooms.first())) {
        problem = tr("Room names use letters, digits, '.', '_' and '-'.");
    }
    m_problem->setText(problem);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}

} // namespace parley::desktop
