using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Parley.Storage;

/// <summary>
/// The embedded SQLite database (one file, WAL mode) that the server and <c>parley user</c> share. WAL lets the
/// admin command write users while the server runs; <c>synchronous=FULL</c> makes a commit survive power loss,
/// which the message history's "stored before relayed" promise relies on.
/// </summary>
public sealed class ParleyDatabase
{
    public const string FileName = "parley.db";
    private const int SchemaVersion = 4;

    private ParleyDatabase(string path)
    {
        Path = path;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    internal string ConnectionString { get; }

    /// <summary>
    /// Opens (creating if needed) <c>parley.db</c> in <paramref name="dataDirectory"/> and applies the schema. The file
    /// holds password verifiers and every stored message, so a new directory is created 0700 and a new database
    /// file 0600 (SQLite gives its -wal and -shm files the database's mode). Existing modes are left as the admin set them.
    /// </summary>
    public static ParleyDatabase Open(string dataDirectory)
    {
        var path = System.IO.Path.Combine(dataDirectory, FileName);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dataDirectory);
        }
        else
        {
            Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (!File.Exists(path))
            {
                using var created = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
        }

        var db = new ParleyDatabase(path);
        using var connection = db.OpenConnection();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }

        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS meta(
                key TEXT NOT NULL PRIMARY KEY,
                value BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS users(
                client_id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
                salt BLOB NOT NULL,
                iterations INTEGER NOT NULL,
                stored_key BLOB NOT NULL,
                server_key BLOB NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS messages(
                id INTEGER PRIMARY KEY,
                conversation TEXT NOT NULL,
                session_id TEXT NOT NULL,
                sender TEXT NOT NULL,
                recipient TEXT NOT NULL,
                body TEXT NOT NULL,
                sent_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation, id);
            """;
        command.ExecuteNonQuery();
        command.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"{db.Path} was written by a newer Parley (schema {version}); this one understands schema {SchemaVersion}.");
        }

        if (version < 2)
        {
            // Schema 2 (issue #3): a credential generation per user, log-on failures for lockout, invite codes, and a
            // users_version the server polls to notice an admin's `parley user remove|reset-password` from another process.
            command.CommandText = """
                ALTER TABLE users ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE logon_failures(
                    id_key TEXT NOT NULL PRIMARY KEY,
                    failures INTEGER NOT NULL,
                    locked_until INTEGER NOT NULL,
                    last_failure INTEGER NOT NULL);
                CREATE TABLE invites(
                    code_hash BLOB NOT NULL PRIMARY KEY,
                    uses_left INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    created_at INTEGER NOT NULL);
                INSERT OR IGNORE INTO meta(key, value) VALUES ('users_version', 0);
                CREATE TRIGGER users_inserted AFTER INSERT ON users
                    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'users_version'; END;
                CREATE TRIGGER users_updated AFTER UPDATE ON users
                    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'users_version'; END;
                CREATE TRIGGER users_deleted AFTER DELETE ON users
                    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'users_version'; END;
                """;
            command.ExecuteNonQuery();
        }

        if (version < 3)
        {
            // Schema 3 (issue #4): direct messages share the messages table with session chats (kind 'dm'), with
            // delivery and read times; partial indexes keep the offline queue and unread counts cheap to read. IDs are
            // compared ignoring case, as everywhere, so a removed and re-created account's rows are counted together.
            command.CommandText = """
                ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat';
                ALTER TABLE messages ADD COLUMN delivered_at INTEGER;
                ALTER TABLE messages ADD COLUMN read_at INTEGER;
                CREATE INDEX messages_unread ON messages(recipient COLLATE NOCASE, sender COLLATE NOCASE) WHERE kind = 'dm' AND read_at IS NULL;
                CREATE INDEX messages_undelivered ON messages(recipient COLLATE NOCASE) WHERE kind = 'dm' AND delivered_at IS NULL;
                """;
            command.ExecuteNonQuery();
        }

        if (version < 4)
        {
            // Schema 4 (issue #5): the public-key directory. Every identity key a user published stays, even after the
            // user is removed, so their old messages remain verifiable for the people they wrote to (public keys are
            // not secret). The backup names the current key and goes with the user.
            command.CommandText = """
                CREATE TABLE identity_keys(
                    id INTEGER PRIMARY KEY,
                    client_id TEXT NOT NULL COLLATE NOCASE,
                    fingerprint TEXT NOT NULL,
                    agree_key BLOB NOT NULL,
                    sign_key BLOB NOT NULL,
                    signature BLOB NOT NULL,
                    published_at INTEGER NOT NULL,
                    UNIQUE(client_id, fingerprint));
                CREATE TABLE key_backups(
                    client_id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE REFERENCES users(client_id) ON DELETE CASCADE,
                    fingerprint TEXT NOT NULL,
                    salt BLOB NOT NULL,
                    iterations INTEGER NOT NULL,
                    box BLOB NOT NULL);
                """;
            command.ExecuteNonQuery();
        }

        command.CommandText = $"PRAGMA user_version = {SchemaVersion};";
        command.ExecuteNonQuery();
        tx.Commit();
        return db;
    }

    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
        command.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// The server's long-term sign-up key (PKCS#8), created with the database. Clients seal their new verifiers to
    /// it (docs/PROTOCOL.md §10.3), so it must stay as private as the verifiers themselves: it lives in the same 0600 file.
    /// </summary>
    public byte[] GetOrCreateSignUpKey(Func<byte[]> create) => GetOrCreateMeta("signup_key", create);

    /// <summary>
    /// A random secret created with the database and never sent anywhere; the server derives the fake salts it
    /// answers unknown IDs with from it, so they are stable per ID but unpredictable.
    /// </summary>
    public byte[] GetOrCreateServerSecret() => GetOrCreateMeta("server_secret", static () => RandomNumberGenerator.GetBytes(32));

    private byte[] GetOrCreateMeta(string key, Func<byte[]> create)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR IGNORE INTO meta(key, value) VALUES ($k, $v); SELECT value FROM meta WHERE key = $k;";
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", create());
        return (byte[])command.ExecuteScalar()!;
    }
}
