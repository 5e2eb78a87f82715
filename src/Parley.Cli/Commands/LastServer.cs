using System.Text.Json;
using System.Text.Json.Serialization;
using Parley.Client;

namespace Parley.Cli.Commands;

/// <summary>
/// Issue 7: the server and user of <c>parley chat</c>'s last successful log-on, kept in
/// <c>&lt;state-dir&gt;/client.json</c> so the next run needs no <c>--host</c>, <c>--port</c> or <c>--user</c>. It is
/// a convenience only: a missing file is no error, and a damaged one costs one warning on stderr, never the program.
/// </summary>
internal sealed record LastServer(string Host, int Port, string User)
{
    public const string FileName = "client.json";

    /// <summary>
    /// What <c>parley chat</c> uses for each value it was not given: the flag, then the environment (PARLEY_USER), then
    /// the remembered value, then the built-in default. The remembered port belongs to the remembered host, so
    /// another <c>--host</c> gets the default port; the remembered user is the person's, so it applies on any server.
    /// </summary>
    public static (string Host, int Port, string? User) Choose(
        string? hostFlag, int? portFlag, string? userFlag, string? userEnvironment, LastServer? last, ParleyClientOptions builtIn)
    {
        var host = hostFlag ?? last?.Host ?? builtIn.Host;
        var sameHost = last is not null && string.Equals(host, last.Host, StringComparison.OrdinalIgnoreCase);
        var port = portFlag ?? (sameHost ? last!.Port : builtIn.Port);
        return (host, port, userFlag ?? (userEnvironment is { Length: > 0 } ? userEnvironment : null) ?? last?.User);
    }

    /// <summary>The remembered server and user in <paramref name="stateDirectory"/>, or null if there are none.</summary>
    public static LastServer? Load(string stateDirectory, TextWriter warnings)
    {
        var path = Path.Combine(stateDirectory, FileName);
        string problem;
        try
        {
            var loaded = JsonSerializer.Deserialize(File.ReadAllBytes(path), LastServerJson.Default.LastServer);
            if (loaded is { Host.Length: > 0, Port: > 0 and <= 65535, User.Length: > 0 })
            {
                return loaded;
            }

            problem = "it lacks a host, a port from 1 to 65535 or a user";
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
        }

        warnings.WriteLine($"Ignoring the remembered server in {path} ({problem}); it is rewritten at the next log-on.");
        return null;
    }

    /// <summary>Directory 0700 and file 0600, like the contact book: it says where and who you are (<see cref="PrivateFile"/>).</summary>
    public void Save(string stateDirectory, TextWriter warnings)
    {
        var path = Path.Combine(stateDirectory, FileName);
        try
        {
            PrivateFile.WriteAtomically(path, file => JsonSerializer.Serialize(file, this, LastServerJson.Default.LastServer));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not remembering is no reason to disturb the chat: say so once, where scripts do not read.
            warnings.WriteLine($"Cannot remember the server in {path} ({e.Message}).");
        }
    }
}

// Null or missing members are a JsonException, so a hand-edited file with "host": null counts as damaged.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(LastServer))]
internal sealed partial class LastServerJson : JsonSerializerContext;
