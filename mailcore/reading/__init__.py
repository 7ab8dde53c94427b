"""Reading mail: the synchronised list as the views page through it (`mailbox`), a message's
bytes and text (`message`), showing it while running none of it (`render`), and the server's own
SEARCH for text not stored here yet (`search`)."""
