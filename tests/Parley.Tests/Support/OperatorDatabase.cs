using Microsoft.Data.Sqlite;

namespace Parley.Tests.Support;

/// <summary>
/// The server's database opened beside the running server, as its operator (or a hostile one) could: WAL allows it.
/// Tests use it to alter what the server stores and show that clients notice (issue #5).
/// </summary>
internal static class OperatorDatabase
{
    public static SqliteConnection Open(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Runs <paramref name="sql"/>; returns the rows it changed.</summary>
    public static int Execute(string databasePath, string sql)
    {
        using var db = Open(databasePath);
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public static List<T> Query<T>(SqliteConnection db, string sql, Func<SqliteDataReader, T> read)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
