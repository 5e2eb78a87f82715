namespace Parley.Cli.ChatClient;

/// <summary>What the user asked for with one line of input.</summary>
internal abstract record UserInput
{
    public sealed record Empty : UserInput;
    public sealed record LogOn(string? ClientId) : UserInput;
    public sealed record LogOff : UserInput;
    public sealed record StartChat(string ClientId) : UserInput;
    public sealed record EndChat : UserInput;
    public sealed record History(string ClientId) : UserInput;
    public sealed record Say(string Text) : UserInput;
    public sealed record SignUp(string? ClientId, string? Invite) : UserInput;
    public sealed record List(bool OnlineOnly) : UserInput;
    public sealed record ChangePassword : UserInput;
    public sealed record Quit : UserInput;
    public sealed record Help : UserInput;
    public sealed record Unknown(string Text) : UserInput;

    /// <summary>
    /// Reads seed 001's phrases ("Log on", "Log off", "Chat &lt;client-id&gt;", "End chat", "History &lt;client-id&gt;",
    /// any letter case and spacing) and the slash forms. During a chat a plain line is a message, except "End chat"
    /// and "Log off"; a message that starts with '/' is sent with "/say".
    /// </summary>
    public static UserInput Parse(string line, bool inChat)
    {
        var text = line.Trim();
        if (text.Length == 0)
        {
            return new Empty();
        }

        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var first = words[0].ToLowerInvariant();
        if (first.StartsWith('/'))
        {
            return ParseSlash(first, words, text);
        }

        // Seed 002's "!signup" and "!LIST" are the slash forms under another prefix; any other '!' line is ordinary text.
        if (first is "!signup" or "!list")
        {
            return ParseSlash("/" + first[1..], words, text);
        }

        var phrase = string.Join(' ', words).ToLowerInvariant();
        if (phrase == "end chat")
        {
            return new EndChat();
        }

        if (phrase == "log off")
        {
            return new LogOff();
        }

        if (inChat)
        {
            return new Say(line);
        }

        return (phrase, words.Length) switch
        {
            ("log on", 2) => new LogOn(null),
            (_, 3) when phrase.StartsWith("log on ", StringComparison.Ordinal) => new LogOn(words[2]),
            ("sign up", 2) => new SignUp(null, null),
            (_, 3 or 4) when phrase.StartsWith("sign up ", StringComparison.Ordinal) => new SignUp(words[2], words.ElementAtOrDefault(3)),
            (_, 2) when first == "chat" => new StartChat(words[1]),
            (_, 2) when first == "history" => new History(words[1]),
            _ => new Unknown(text),
        };
    }

    private static UserInput ParseSlash(string command, string[] words, string text)
    {
        var argument = words.Length == 2 ? words[1] : null;
        return command switch
        {
            "/logon" when words.Length <= 2 => new LogOn(argument),
            "/logoff" when words.Length == 1 => new LogOff(),
            "/chat" when argument is not null => new StartChat(argument),
            "/end" when words.Length == 1 => new EndChat(),
            "/history" when argument is not null => new History(argument),
            "/signup" when words.Length <= 3 => new SignUp(words.ElementAtOrDefault(1), words.ElementAtOrDefault(2)),
            "/list" when words.Length == 1 => new List(OnlineOnly: false),
            "/list" when words.Length == 2 && argument!.Equals("online", StringComparison.OrdinalIgnoreCase) => new List(OnlineOnly: true),
            "/passwd" when words.Length == 1 => new ChangePassword(),
            "/quit" when words.Length == 1 => new Quit(),
            "/help" => new Help(),
            "/say" when words.Length > 1 => new Say(text[text.IndexOf(' ', StringComparison.Ordinal)..].TrimStart()),
            _ => new Unknown(text),
        };
    }

    public const string HelpText = """
        Commands (seed phrases or slash forms, any letter case):
          Log on [id]            /logon [id]            connect and authenticate
          Sign up [id] [invite]  /signup [id] [invite]  create an account, then log on (also !signup)
          Chat <id>              /chat <id>             start a chat with <id>
          End chat               /end                   end the current chat
          History <id>           /history <id>          show past messages with <id>
                                 /list [online]         every user, online or offline (also !LIST); or who is online
                                 /passwd                change your password
          Log off                /logoff                disconnect from the server
                                 /say <text>            send text that starts with '/'
                                 /quit                  log off and leave
        During a chat every other line is a message.
        """;
}
