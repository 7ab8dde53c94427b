"""Writing and sending mail: the message built and sent over SMTP (`message`), one draft per
compose window (`drafts`), attachments kept in the database until sent (`uploads`), and the
installation's own sender for mail that must not pass through a user's account (`system_mail`)."""
