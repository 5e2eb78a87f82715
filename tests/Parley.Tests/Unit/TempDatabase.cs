using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Parley.Protocol.Security;
using Parley.Storage;

namespace Parley.Tests.Unit;

/// <summary>A fresh data directory holding parley.db, deleted when the test ends.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        DataDirectory = Directory.CreateTempSubdirectory("parley-db-").FullName;
        Database = ParleyDatabase.Open(DataDirectory);
    }

    public string DataDirectory { get; }

    public ParleyDatabase Database { get; }

    /// <summary>A verifier of random keys: the stores never derive anything from it, so PBKDF2 is not worth running.</summary>
    public static ScramVerifier NewVerifier(int iterations = Scram.MinimumIterations) => new(
        RandomNumberGenerator.GetBytes(Scram.SaltBytes), iterations,
        RandomNumberGenerator.GetBytes(Scram.KeyBytes), RandomNumberGenerator.GetBytes(Scram.KeyBytes));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
