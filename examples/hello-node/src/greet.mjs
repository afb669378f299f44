// greet: an async handler (ES module).
export function greeting(name, stage) {
  return `Hello, ${name}! (stage ${stage})`;
}

export const handler = async (event) => {
  const name = (event && event.name) || 'world';
  console.log(`greeting ${name}`);
  return {
    statusCode: 200,
    body: JSON.stringify({ message: greeting(name, process.env.STAGE || 'dev') }),
  };
};
