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
}
