// SignInDialog: server, user name, token, first room.
#pragma once

#include "controllers/launchoptions.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace parley::desktop {

//! Asks where to connect and as whom, prefilled with `initial` (the saved session). OK stays
//! disabled until the server address (any form parley::ServerAddress accepts) and the user name
//! are acceptable; below the fields, a line says what is wrong.
class SignInDialog : public QDialog {
    Q_OBJECT

public:
    explicit SignInDialog(const LaunchOptions& initial, QWidget* parent = nullptr);

    //! What the user entered (valid once the dialog was accepted).
    LaunchOptions options() const;

private:
    void validate();

    QLineEdit* m_server = nullptr;
    QLineEdit* m_user = nullptr;
    QLineEdit* m_token = nullptr;
    QLineEdit* m_room = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
    QStringList m_otherRooms;
};

} // namespace parley::desktop
