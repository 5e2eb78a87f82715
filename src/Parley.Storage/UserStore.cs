using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Parley.Protocol.Security;

namespace Parley.Storage;

/// <summary>
/// A subscriber as stored: the ID and its SCRAM verifier, never a password. <c>Generation</c> is taken from the
/// database-wide users_version when the account is created or its password changes, so it only grows, even across
/// a removal and re-creation of the same ID: the server can tell that a logged-on client's credentials are not current.
/// </summary>
public sealed record StoredUser(string ClientId, ScramVerifier Verifier, DateTimeOffset CreatedAt, long Generation);

/// <summary>What <see cref="UserStore.SignUp"/> did.</summary>
public enum SignUpStatus
{
    Created,
    Taken,
    InviteInvalid,
}

/// <summary>The list of subscribers (seed 001: "an ID on the list of subscribers"). IDs are unique case-insensitively.</summary>
public sealed class UserStore(ParleyDatabase database)
{
    private const string Columns = "client_id, salt, iterations, stored_key, server_key, created_at, generation";

    /// <summary>Adds a user; false if the ID (in any letter case) is taken.</summary>
    public bool TryAdd(string clientId, ScramVerifier verifier) => SignUp(clientId, verifier, invite: null, DateTimeOffset.UtcNow) == SignUpStatus.Created;

    /// <summary>
    /// Creates an account in one transaction, spending one use of <paramref name="invite"/> when given. Signing up
    /// again with exactly the stored verifier counts as created: it is a retransmitted SIGNUP whose answer was lost.
    /// </summary>
    public SignUpStatus SignUp(string clientId, ScramVerifier verifier, string? invite, DateTimeOffset now)
    {
        using var connection = database.OpenConnection();
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;

        // A retransmission whose first copy created the account: answer Created again, without spending another invite use.
        var existing = Find(connection, tx, clientId);
        if (existing is not null && CryptographicOperations.FixedTimeEquals(existing.Verifier.StoredKey, verifier.StoredKey))
        {
            return SignUpStatus.Created;
        }

        if (invite is not null)
        {
            command.CommandText = "UPDATE invites SET uses_left = uses_left - 1 WHERE code_hash = $h AND uses_left > 0 AND expires_at > $now;";
            command.Parameters.AddWithValue("$h", InviteStore.Hash(invite));
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            if (command.ExecuteNonQuery() != 1)
            {
                return SignUpStatus.InviteInvalid;
            }

            command.Parameters.Clear();
        }

        // Checked after the invite, so without a valid code nobody learns which IDs exist; the rollback keeps the use.
        if (existing is not null)
        {
            return SignUpStatus.Taken;
        }

        command.CommandText = """
            INSERT INTO users(client_id, salt, iterations, stored_key, server_key, created_at, generation)
            VALUES ($id, $salt, $iterations, $stored, $server, $now, (SELECT value + 1 FROM meta WHERE key = 'users_version'))
            ON CONFLICT(client_id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$id", clientId);
        command.Parameters.AddWithValue("$salt", verifier.Salt);
        command.Parameters.AddWithValue("$iterations", verifier.Iterations);
        command.Parameters.AddWithValue("$stored", verifier.StoredKey);
        command.Parameters.AddWithValue("$server", verifier.ServerKey);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        if (command.ExecuteNonQuery() == 1)
        {
            // Failures counted while nobody owned the ID are someone else's guesses; the new owner starts unlocked.
            command.CommandText = "DELETE FROM logon_failures WHERE id_key = lower($id);";
            command.ExecuteNonQuery();
            tx.Commit();
            return SignUpStatus.Created;
        }

        // Unreachable while the transaction holds the write lock (BEGIN IMMEDIATE); kept as the safe answer.
        return SignUpStatus.Taken;
    }

    public StoredUser? Find(string clientId)
    {
        using var connection = database.OpenConnection();
        return Find(connection, null, clientId);
    }

    public IReadOnlyList<StoredUser> List(int limit = int.MaxValue)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM users ORDER BY client_id COLLATE NOCASE LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var users = new List<StoredUser>();
        while (reader.Read())
        {
            users.Add(ReadUser(reader));
        }

        return users;
    }

    /// <summary>
    /// Replaces a user's verifier (a password change or an admin reset) and moves their generation past every
    /// generation handed out so far; returns the new generation, or null if there is no such user.
    /// </summary>
    public long? SetVerifier(string clientId, ScramVerifier verifier) => SetVerifier(clientId, verifier, backup: null, out _);

    /// <summary>
    /// <see cref="SetVerifier(string, ScramVerifier)"/> and, in the same transaction, the identity key's backup re-wrapped under
    /// the new password (issue #5), so the two never disagree. <paramref name="backupStored"/> is false when the
    /// backup is not of the user's current key; the password changes anyway.
    /// </summary>
    public long? SetVerifier(string clientId, ScramVerifier verifier, StoredBackup? backup, out bool backupStored)
    {
        using var connection = database.OpenConnection();
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            UPDATE users SET salt = $salt, iterations = $iterations, stored_key = $stored, server_key = $server,
                generation = (SELECT value + 1 FROM meta WHERE key = 'users_version')
            WHERE client_id = $id
            RETURNING generation;
            """;
        command.Parameters.AddWithValue("$id", clientId);
        command.Parameters.AddWithValue("$salt", verifier.Salt);
        command.Parameters.AddWithValue("$iterations", verifier.Iterations);
        command.Parameters.AddWithValue("$stored", verifier.StoredKey);
        command.Parameters.AddWithValue("$server", verifier.ServerKey);
        var generation = command.ExecuteScalar() as long?;
        backupStored = generation is not null && backup is not null && KeyStore.ReplaceCurrentBackup(command, clientId, backup);
        tx.Commit();
        return generation;
    }

    /// <summary>Removes a user (their history stays, as the other party's record of the conversation).</summary>
    public bool Remove(string clientId)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM users WHERE client_id = $id;";
        command.Parameters.AddWithValue("$id", clientId);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>A counter that changes whenever any process adds, changes or removes a user (a trigger keeps it).</summary>
    public long Version()
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'users_version';";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The current generation of each of <paramref name="clientIds"/> that still exists.</summary>
    public Dictionary<string, long> Generations(IEnumerable<string> clientIds)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT generation FROM users WHERE client_id = $id;";
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var result = new Dictionary<string, long>(Protocol.ClientIds.Comparer);
        foreach (var clientId in clientIds)
        {
            id.Value = clientId;
            if (command.ExecuteScalar() is long generation)
            {
                result[clientId] = generation;
            }
        }

        return result;
    }

    /// <summary>
    /// The iteration count most users' verifiers have, or null with no users. Unknown IDs are challenged with it, so
    /// the count in a CHALLENGE does not tell a real ID from an unknown one after the server's setting changes.
    /// </summary>
    public int? MostCommonIterations()
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT iterations FROM users GROUP BY iterations ORDER BY COUNT(*) DESC, iterations DESC LIMIT 1;";
        return command.ExecuteScalar() is long n ? (int)n : null;
    }

    private static StoredUser? Find(SqliteConnection connection, SqliteTransaction? tx, string clientId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = $"SELECT {Columns} FROM users WHERE client_id = $id;";
        command.Parameters.AddWithValue("$id", clientId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadUser(reader) : null;
    }

    private static StoredUser ReadUser(SqliteDataReader reader) => new(
        reader.GetString(0),
        new ScramVerifier((byte[])reader[1], reader.GetInt32(2), (byte[])reader[3], (byte[])reader[4]),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
        reader.GetInt64(6));
}
