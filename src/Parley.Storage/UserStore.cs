using Microsoft.Data.Sqlite;
using Parley.Protocol.Security;

namespace Parley.Storage;

/// <summary>A subscriber as stored: the ID and its SCRAM verifier, never a password.</summary>
public sealed record StoredUser(string ClientId, ScramVerifier Verifier, DateTimeOffset CreatedAt);

/// <summary>The list of subscribers (seed 001: "an ID on the list of subscribers"). IDs are unique case-insensitively.</summary>
public sealed class UserStore(ParleyDatabase database)
{
    /// <summary>Adds a user; false if the ID (in any letter case) is taken.</summary>
    public bool TryAdd(string clientId, ScramVerifier verifier)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO users(client_id, salt, iterations, stored_key, server_key, created_at)
            VALUES ($id, $salt, $iterations, $stored, $server, $now) ON CONFLICT(client_id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$id", clientId);
        command.Parameters.AddWithValue("$salt", verifier.Salt);
        command.Parameters.AddWithValue("$iterations", verifier.Iterations);
        command.Parameters.AddWithValue("$stored", verifier.StoredKey);
        command.Parameters.AddWithValue("$server", verifier.ServerKey);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery() == 1;
    }

    public StoredUser? Find(string clientId)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT client_id, salt, iterations, stored_key, server_key, created_at FROM users WHERE client_id = $id;";
        command.Parameters.AddWithValue("$id", clientId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadUser(reader) : null;
    }

    public IReadOnlyList<StoredUser> List()
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT client_id, salt, iterations, stored_key, server_key, created_at FROM users ORDER BY client_id COLLATE NOCASE;";
        using var reader = command.ExecuteReader();
        var users = new List<StoredUser>();
        while (reader.Read())
        {
            users.Add(ReadUser(reader));
        }

        return users;
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

    private static StoredUser ReadUser(SqliteDataReader reader) => new(
        reader.GetString(0),
        new ScramVerifier((byte[])reader[1], reader.GetInt32(2), (byte[])reader[3], (byte[])reader[4]),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
}
