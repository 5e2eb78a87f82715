using Microsoft.Data.Sqlite;

namespace Parley.Storage;

/// <summary>One published identity key (issue #5): the two public points and the owner's self-signature.</summary>
public sealed record StoredIdentityKey(string Fingerprint, byte[] AgreeKey, byte[] SignKey, byte[] Signature, DateTimeOffset PublishedAt);

/// <summary>A password-wrapped private identity key; the server cannot open it (docs/PROTOCOL.md §12.2).</summary>
public sealed record StoredBackup(string Fingerprint, byte[] Salt, int Iterations, byte[] Box);

/// <summary>
/// A user's keys: all they ever published (oldest first), and the backup, whose key is the current one.
/// <c>Known</c> is false for a removed user, whose keys stay (without a backup) so their old messages verify.
/// </summary>
public sealed record UserKeys(string ClientId, IReadOnlyList<StoredIdentityKey> Keys, StoredBackup? Backup, bool Known = true)
{
    public string? Current => Backup?.Fingerprint;
}

/// <summary>What <see cref="KeyStore.Publish"/> did.</summary>
public enum PublishStatus
{
    Published,
    NoSuchUser,
    TooManyKeys,

    /// <summary>The key was replaced by a newer one; making it current again would be a silent rollback (and a cheap way to flood KEYS_CHANGED).</summary>
    Retired,
}

/// <summary>
/// The public-key directory (issue #5): identity keys and backups. A removed account's backup goes with it (it is
/// that person's private key); its public keys stay, so the people it wrote to can still verify those messages. A
/// re-created ID starts with no current key, and the key its new owner publishes is a change to their contacts.
/// </summary>
public sealed class KeyStore(ParleyDatabase database)
{
    /// <summary>
    /// Makes <paramref name="key"/> the user's current key, with its backup, in one transaction. Publishing the
    /// current key again (a retry) only replaces its backup; an older key is <see cref="PublishStatus.Retired"/>;
    /// a new one is refused past <paramref name="maxKeys"/>.
    /// </summary>
    public PublishStatus Publish(string clientId, StoredIdentityKey key, StoredBackup backup, int maxKeys)
    {
        using var connection = database.OpenConnection();
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            SELECT (SELECT client_id FROM users WHERE client_id = $id),
                   (SELECT count(*) FROM identity_keys WHERE client_id = $id),
                   (SELECT count(*) FROM identity_keys WHERE client_id = $id AND fingerprint = $fp),
                   (SELECT fingerprint FROM key_backups WHERE client_id = $id);
            """;
        command.Parameters.AddWithValue("$id", clientId);
        command.Parameters.AddWithValue("$fp", key.Fingerprint);
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            if (reader.IsDBNull(0))
            {
                return PublishStatus.NoSuchUser;
            }

            var known = reader.GetInt64(2) > 0;
            if (known && (reader.IsDBNull(3) || reader.GetString(3) != key.Fingerprint))
            {
                return PublishStatus.Retired;
            }

            if (!known && reader.GetInt64(1) >= maxKeys)
            {
                return PublishStatus.TooManyKeys;
            }
        }

        command.CommandText = """
            INSERT INTO identity_keys(client_id, fingerprint, agree_key, sign_key, signature, published_at)
                VALUES ((SELECT client_id FROM users WHERE client_id = $id), $fp, $agree, $sign, $sig, $at)
            ON CONFLICT(client_id, fingerprint) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$agree", key.AgreeKey);
        command.Parameters.AddWithValue("$sign", key.SignKey);
        command.Parameters.AddWithValue("$sig", key.Signature);
        command.Parameters.AddWithValue("$at", key.PublishedAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
        ReplaceBackup(command, clientId, backup);
        tx.Commit();
        return PublishStatus.Published;
    }

    /// <summary>The user's keys and backup; a removed user's keys without one; null when the ID never had either.</summary>
    public UserKeys? Get(string clientId)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT client_id FROM users WHERE client_id = $id;";
        command.Parameters.AddWithValue("$id", clientId);
        var canonical = command.ExecuteScalar() as string;

        command.CommandText = "SELECT fingerprint, agree_key, sign_key, signature, published_at, client_id FROM identity_keys WHERE client_id = $id ORDER BY id;";
        var keys = new List<StoredIdentityKey>();
        string? keyOwner = null;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                keys.Add(new StoredIdentityKey(reader.GetString(0), (byte[])reader[1], (byte[])reader[2], (byte[])reader[3],
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
                keyOwner = reader.GetString(5);
            }
        }

        if (canonical is null)
        {
            return keyOwner is null ? null : new UserKeys(keyOwner, keys, Backup: null, Known: false);
        }

        command.CommandText = "SELECT fingerprint, salt, iterations, box FROM key_backups WHERE client_id = $id;";
        using (var reader = command.ExecuteReader())
        {
            var backup = reader.Read() ? new StoredBackup(reader.GetString(0), (byte[])reader[1], reader.GetInt32(2), (byte[])reader[3]) : null;
            return new UserKeys(canonical, keys, backup);
        }
    }

    /// <summary>
    /// Replaces the backup inside a caller's transaction, only when it holds the current key (a password change
    /// re-wraps the same key); false otherwise, so a stale client cannot roll the user back to an older key.
    /// </summary>
    internal static bool ReplaceCurrentBackup(SqliteCommand command, string clientId, StoredBackup backup)
    {
        command.Parameters.Clear();
        command.CommandText = """
            UPDATE key_backups SET salt = $salt, iterations = $iterations, box = $box
            WHERE client_id = $id AND fingerprint = $fp;
            """;
        AddBackup(command, clientId, backup);
        return command.ExecuteNonQuery() == 1;
    }

    private static void ReplaceBackup(SqliteCommand command, string clientId, StoredBackup backup)
    {
        command.Parameters.Clear();
        command.CommandText = """
            INSERT INTO key_backups(client_id, fingerprint, salt, iterations, box)
                VALUES ((SELECT client_id FROM users WHERE client_id = $id), $fp, $salt, $iterations, $box)
            ON CONFLICT(client_id) DO UPDATE SET fingerprint = $fp, salt = $salt, iterations = $iterations, box = $box;
            """;
        AddBackup(command, clientId, backup);
        command.ExecuteNonQuery();
    }

    private static void AddBackup(SqliteCommand command, string clientId, StoredBackup backup)
    {
        command.Parameters.AddWithValue("$id", clientId);
        command.Parameters.AddWithValue("$fp", backup.Fingerprint);
        command.Parameters.AddWithValue("$salt", backup.Salt);
        command.Parameters.AddWithValue("$iterations", backup.Iterations);
        command.Parameters.AddWithValue("$box", backup.Box);
    }
}
