using System.Text;
using Parley.Storage;

namespace Parley.Tests.Support;

/// <summary>
/// Looking for message text where the server must not have it (seed 004: the server does not log messages; issue #5:
/// it cannot read 1:1 messages): raw files, logs and captured bytes, as text and as base64 at every alignment.
/// </summary>
internal static class MarkerScan
{
    /// <summary>The database and its write-ahead log and index, read raw as a thief of the files would.</summary>
    public static void AssertNotInDatabase(string dataDirectory, string[] markers)
    {
        var database = Path.Combine(dataDirectory, ParleyDatabase.FileName);
        Assert.True(File.Exists(database), $"no {database}");
        foreach (var path in new[] { database, database + "-wal", database + "-shm" }.Where(File.Exists))
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var bytes = new MemoryStream();
            file.CopyTo(bytes);
            AssertNotIn(markers, bytes.ToArray(), path);
        }
    }

    /// <summary>None of <paramref name="markers"/> is in <paramref name="data"/>, as UTF-8 text or as base64 at any alignment.</summary>
    public static void AssertNotIn(string[] markers, byte[] data, string where)
    {
        if (Find(markers, data) is { } found)
        {
            Assert.Fail($"{found} is in {where}");
        }
    }

    /// <summary>The first of <paramref name="markers"/> found in <paramref name="data"/> (described), or null.</summary>
    public static string? Find(string[] markers, byte[] data)
    {
        foreach (var marker in markers)
        {
            foreach (var form in Forms(marker))
            {
                if (data.AsSpan().IndexOf(form) >= 0)
                {
                    return $"\"{marker}\" (as \"{Encoding.ASCII.GetString(form)}\")";
                }
            }
        }

        return null;
    }

    /// <summary>The marker's UTF-8 bytes, and the base64 characters made of its bits alone at each of the three alignments.</summary>
    private static IEnumerable<byte[]> Forms(string marker)
    {
        var bytes = Encoding.UTF8.GetBytes(marker);
        yield return bytes;
        for (var shift = 0; shift < 3; shift++)
        {
            var encoded = Convert.ToBase64String([.. new byte[shift], .. bytes]);
            var first = (8 * shift + 5) / 6;
            var end = 8 * (shift + bytes.Length) / 6;
            yield return Encoding.ASCII.GetBytes(encoded[first..end]);
        }
    }
}
