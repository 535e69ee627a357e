from darwin_plugins.llm.options import CallOptions as SelfOptions
def create(options, context):
    raise NotImplementedError
