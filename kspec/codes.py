"""Stable diagnostic codes and their one-line titles.

Codes never change meaning once released; docs/spec-language.md documents each
one with a minimal failing example, and a test keeps the two in step.
"""

CODES = {
    # Reading the file.
    "KS000": "the path cannot be read (exit status 2)",
    "KS001": "the file is not a text spec (binary, not UTF-8, or too large)",
    "KS002": "YAML syntax error",
    "KS003": "the file holds no spec (empty document)",
    "KS004": "the document is not a mapping",
    "KS005": "duplicate key in one mapping",
    "KS006": "YAML aliases expand beyond the limit",
    "KS007": "more than one YAML document in the file",
    "KS008": "YAML tag not allowed",
    "KS009": "YAML nesting too deep",
    "KS010": "YAML merge keys (<<) are not supported",
    "KS011": "ambiguous YAML scalar",
    "KS012": "included file that cannot be read",
    "KS013": "include cycle",
    "KS014": "include outside the project root",
    "KS015": "too many included files",
    "KS016": "`--set` path that leads nowhere",
    # Structure (the JSON Schema).
    "KS101": "required key missing",
    "KS102": "unknown layer type",
    "KS103": "unknown key",
    "KS104": "value of the wrong type",
    "KS105": "value out of range or not allowed",
    "KS106": "unsupported format version",
    # Names and the graph.
    "KS201": "duplicate name",
    "KS202": "reference to nothing",
    "KS203": "cycle in the layer graph",
    "KS204": "output that does not exist",
    "KS205": "unused input",
    "KS206": "unused layer",
    "KS207": "reference to an output the call does not have",
    "KS208": "share of something that is not a layer",
    "KS209": "repeat where it cannot apply",
    "KS210": "missing inputs",
    "KS211": "Keras style that the graph does not allow",
    "KS212": "block call with the wrong number of inputs",
    "KS213": "layer or output that no model input reaches",
    # Constructor and call arguments, nested Keras objects.
    "KS301": "unknown constructor argument",
    "KS302": "constructor argument of the wrong type",
    "KS303": "required constructor argument missing",
    "KS304": "unknown Keras object",
    "KS305": "constructor argument out of range",
    "KS306": "unknown call argument",
    "KS307": "call argument given where it does not belong (a tensor in `call`, a constant in `inputs`)",
    "KS308": "layer, argument or keras.ops function newer than the target Keras release",
    # Blocks.
    "KS401": "required block parameter missing",
    "KS402": "unknown block parameter",
    "KS403": "block recursion",
    "KS404": "reference to an undeclared block parameter",
    "KS405": "unused block parameter",
    "KS406": "block parameter named like a call key",
    "KS407": "blocks and repeats expand past the limit",
    "KS408": "block calls nested too deeply",
    "KS409": "malformed expression",
    "KS410": "expression that cannot be computed",
    # Compile settings and custom layers.
    "KS501": "per-output setting names no output",
    "KS502": "malformed custom import path",
    "KS503": "custom layer contract that the real layer contradicts",
    # Shapes (static inference).
    "KS601": "shapes that do not fit together",
    "KS602": "input of the wrong rank or form for the layer",
    "KS603": "a dimension the layer needs is unknown (null)",
    "KS604": "no output left after a convolution, pooling or cropping",
    "KS605": "Reshape target that does not hold the input's values",
    "KS606": "no shape rule for the layer: shapes after it are unknown",
    "KS607": "weights larger than this machine's memory",
    "KS608": "custom layer contract that cannot be computed for a call",
    # keras.ops calls.
    "KS701": "unknown or disallowed keras.ops function",
    "KS702": "unknown keras.ops argument, one given twice, or too many tensor inputs",
    "KS703": "required keras.ops argument missing",
}
