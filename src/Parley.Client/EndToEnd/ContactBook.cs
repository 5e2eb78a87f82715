using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Client.EndToEnd;

/// <summary>What this client has decided about one contact's identity keys (issue #5).</summary>
/// <param name="Accepted">Every fingerprint the user ever trusted for this contact: messages signed by them verify as the contact's.</param>
/// <param name="Verified">The fingerprint whose safety number the user compared and confirmed with /verify, if any.</param>
/// <param name="Current">
/// The key the user trusts the contact to have now: the first one seen (TOFU) or the last accepted. Any other current
/// key, an older accepted one included, is a change: the server must not be able to roll a contact back silently.
/// </param>
public sealed record ContactRecord(IReadOnlyList<string> Accepted, string? Verified, string? Current = null);

/// <summary>
/// The client's local trust state (issue #5: "first use is trusted and recorded in the client's local state"): one
/// small JSON file per user and server, <c>contacts.json</c>, written whole to a temporary file and renamed, so a
/// crash leaves the old or the new file, never half of one. Directory 0700, file 0600: it says whom the user talks to.
/// It holds no secret: keys live on the server, wrapped under the password.
/// </summary>
public sealed class ContactBook
{
    private string? _path;
    private readonly Dictionary<string, ContactRecord> _contacts;

    private ContactBook(string? path, Dictionary<string, ContactRecord> contacts)
    {
        _path = path;
        _contacts = contacts;
    }

    /// <summary>A book that lives only in memory (nothing is remembered after the program ends).</summary>
    public static ContactBook InMemory() => new(null, new Dictionary<string, ContactRecord>(StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// Opens the book of <paramref name="clientId"/> on <paramref name="server"/> under <paramref name="stateDirectory"/>.
    /// An unreadable file is reported, not silently replaced: losing it would make every contact "first use" again.
    /// </summary>
    public static ContactBook Open(string stateDirectory, string server, string clientId)
    {
        var directory = Path.Combine(stateDirectory, SafeName(server), clientId.ToLowerInvariant());
        var path = Path.Combine(directory, "contacts.json");
        var contacts = new Dictionary<string, ContactRecord>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(path))
        {
            try
            {
                var loaded = JsonSerializer.Deserialize(File.ReadAllBytes(path), ContactBookJson.Default.DictionaryStringContactRecord);
                foreach (var (id, record) in loaded ?? [])
                {
                    contacts[id] = record;
                }
            }
            catch (JsonException e)
            {
                throw new ParleyClientException(ClientFailure.Refused, $"{path} is damaged ({e.Message}); move it away to start trusting contacts afresh.");
            }
        }

        return new ContactBook(path, contacts);
    }

    public ContactRecord? Find(string clientId) => _contacts.GetValueOrDefault(clientId);

    /// <summary>
    /// Trusts <paramref name="current"/> as <paramref name="clientId"/>'s key from now on (added to those accepted
    /// before) and saves; <paramref name="verified"/> says the user also compared its safety number.
    /// </summary>
    public void Accept(string clientId, string current, bool verified = false)
    {
        var existing = Find(clientId);
        var accepted = (existing?.Accepted ?? []).Append(current).Distinct(StringComparer.Ordinal).ToArray();
        _contacts[clientId] = new ContactRecord(accepted, verified ? current : existing?.Verified, current);
        Save();
    }

    /// <summary>Why the book is kept only in memory (its file could not be written), or null.</summary>
    public string? Problem { get; private set; }

    private void Save()
    {
        if (_path is null)
        {
            return;
        }

        try
        {
            Write(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Encryption must not stop because the state directory is read-only: trust is then kept until exit.
            Problem = $"cannot write {_path} ({e.Message}); the keys you trust are remembered only until you quit";
            _path = null;
        }
    }

    private void Write(string path) =>
        PrivateFile.WriteAtomically(path, file => JsonSerializer.Serialize(file, _contacts, ContactBookJson.Default.DictionaryStringContactRecord));

    /// <summary>"host:port" as a directory name: characters outside [A-Za-z0-9.-] become '_'.</summary>
    private static string SafeName(string server) =>
        string.Concat(server.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_'));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(Dictionary<string, ContactRecord>))]
internal sealed partial class ContactBookJson : JsonSerializerContext;
