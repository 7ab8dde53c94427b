"""Keeping the database equal to the IMAP server: the sync itself (`engine`), what it fetches and
how it reads the answers, the jobs that run syncs (threads, a queue) and the IDLE watcher. They
reach the installation only through the narrow interface they are handed."""
