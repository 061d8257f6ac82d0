<?php
// Prints the stubs of wpf-bridge's exception classes, read by reflection from the loaded
// extension; used by scripts/stubs.sh. The sentences below are the classes' documentation.
$docs = [
    'WpfBridge\Exception' => 'Base class of every exception wpf-bridge throws. getCode() is the stable integer code, $errorCode the stable string code (e.g. "invalid_json").',
    'WpfBridge\InvalidPayloadException' => 'The request or its payload is unusable: bad JSON, a missing or unknown action, no contact id, a body over the size limit, an unknown CRM.',
    'WpfBridge\AuthenticationException' => 'A wrong or missing access key or webhook signature.',
    'WpfBridge\ConfigurationException' => 'A setting or an argument is wrong; the message names it.',
    'WpfBridge\CrmException' => 'The CRM\'s API failed, refused our credentials or does not know the contact.',
    'WpfBridge\SiteException' => 'WordPress (the site adapter) failed.',
];
$classes = array_values(array_filter(
    get_declared_classes(),
    // Exceptions only: the classes declared with #[php_class] are in cargo-php's stubs.
    fn ($c) => str_starts_with($c, 'WpfBridge\\') && (new ReflectionClass($c))->getExtensionName() === 'wpf_bridge'
        && is_subclass_of($c, Throwable::class)
));
echo "namespace WpfBridge {\n";
foreach ($classes as $i => $class) {
    $ref = new ReflectionClass($class);
    if (!isset($docs[$class])) {
        fwrite(STDERR, "no documentation for $class in scripts/exception-stubs.php\n");
        exit(1);
    }
    $parent = '\\' . $ref->getParentClass()->getName();
    echo $i ? "\n" : '', "    /**\n     * {$docs[$class]}\n     */\n";
    echo "    class {$ref->getShortName()} extends $parent {\n";
    foreach ($ref->getProperties() as $prop) {
        if ($prop->getDeclaringClass()->getName() !== $class) {
            continue;
        }
        $default = var_export($prop->getDefaultValue(), true);
        $type = $prop->hasType() ? $prop->getType() . ' ' : '';
        echo "        /** @var string */\n        public {$type}\${$prop->getName()} = $default;\n";
    }
    echo "    }\n";
}
echo "}\n";
