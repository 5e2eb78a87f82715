using Parley.Protocol.Security;
using Parley.Storage;

namespace Parley.Tests.Unit;

public sealed class DatabaseTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // Parley's tests run on Linux, where file modes apply
    public void A_new_database_is_readable_by_its_owner_only()
    {
        var parent = Directory.CreateTempSubdirectory("parley-db-").FullName;
        var dataDirectory = Path.Combine(parent, "data");
        try
        {
            var users = new UserStore(ParleyDatabase.Open(dataDirectory));
            Assert.True(users.TryAdd("alice", Scram.CreateVerifier("pw", Scram.MinimumIterations)));

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDirectory));
            foreach (var file in Directory.GetFiles(dataDirectory))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)); // parley.db, -wal, -shm
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public void Client_ids_are_unique_ignoring_letter_case_and_verifiers_round_trip()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("parley-db-").FullName;
        try
        {
            var users = new UserStore(ParleyDatabase.Open(dataDirectory));
            var verifier = Scram.CreateVerifier("pw", Scram.MinimumIterations);
            Assert.True(users.TryAdd("Alice", verifier));
            Assert.False(users.TryAdd("alice", Scram.CreateVerifier("other", Scram.MinimumIterations)));
            var found = users.Find("ALICE");
            Assert.NotNull(found);
            Assert.Equal("Alice", found.ClientId);
            Assert.Equal(verifier.StoredKey, found.Verifier.StoredKey);
            Assert.Equal(verifier.ServerKey, found.Verifier.ServerKey);
            Assert.Equal(verifier.Salt, found.Verifier.Salt);
            Assert.Equal(Scram.MinimumIterations, found.Verifier.Iterations);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public void A_schema_1_database_is_migrated_on_open_and_its_users_keep_working()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("parley-db-").FullName;
        try
        {
            var verifier = Scram.CreateVerifier("pencil", Scram.MinimumIterations);
            using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDirectory, ParleyDatabase.FileName)}"))
            {
                old.Open();
                using var command = old.CreateCommand();
                command.CommandText = """
                    CREATE TABLE meta(key TEXT NOT NULL PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE users(
                        client_id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
                        salt BLOB NOT NULL,
                        iterations INTEGER NOT NULL,
                        stored_key BLOB NOT NULL,
                        server_key BLOB NOT NULL,
                        created_at INTEGER NOT NULL);
                    INSERT INTO users VALUES ('Alice', $salt, $iterations, $stored, $server, 1700000000000);
                    PRAGMA user_version = 1;
                    """;
                command.Parameters.AddWithValue("$salt", verifier.Salt);
                command.Parameters.AddWithValue("$iterations", verifier.Iterations);
                command.Parameters.AddWithValue("$stored", verifier.StoredKey);
                command.Parameters.AddWithValue("$server", verifier.ServerKey);
                command.ExecuteNonQuery();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var database = ParleyDatabase.Open(dataDirectory);
            var users = new UserStore(database);

            var alice = users.Find("alice");
            Assert.NotNull(alice);
            Assert.Equal("Alice", alice.ClientId);
            Assert.Equal(0, alice.Generation);
            Assert.Equal(verifier.StoredKey, alice.Verifier.StoredKey);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), alice.CreatedAt);

            // The new columns, tables and triggers are there.
            var version = users.Version();
            Assert.True(users.SetVerifier("alice", Scram.CreateVerifier("new password", Scram.MinimumIterations)) > 0);
            Assert.True(users.Find("alice")!.Generation > 0);
            Assert.NotEqual(version, users.Version());
            Assert.Equal(SignUpStatus.Taken, users.SignUp("ALICE", Scram.CreateVerifier("x", Scram.MinimumIterations), null, DateTimeOffset.UtcNow));
            Assert.Equal(SignUpStatus.Created, users.SignUp("bob", Scram.CreateVerifier("x", Scram.MinimumIterations), null, DateTimeOffset.UtcNow));
            Assert.Null(new LockoutStore(database).RecordFailure("alice", DateTimeOffset.UtcNow, new LockoutPolicy(3, TimeSpan.FromMinutes(1), TimeSpan.FromHours(1))));
            var invites = new InviteStore(database);
            Assert.True(invites.IsValid(invites.Create(1, DateTimeOffset.UtcNow.AddDays(1), DateTimeOffset.UtcNow), DateTimeOffset.UtcNow));

            // Opening the migrated database again does not migrate it twice.
            var generation = users.Find("alice")!.Generation;
            var reopened = new UserStore(ParleyDatabase.Open(dataDirectory));
            Assert.Equal(generation, reopened.Find("alice")!.Generation);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public void A_database_from_a_newer_parley_is_refused()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("parley-db-").FullName;
        try
        {
            using (var newer = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDirectory, ParleyDatabase.FileName)}"))
            {
                newer.Open();
                using var command = newer.CreateCommand();
                command.CommandText = "PRAGMA user_version = 99;";
                command.ExecuteNonQuery();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Assert.Contains("schema 99", Assert.Throws<InvalidOperationException>(() => ParleyDatabase.Open(dataDirectory)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
